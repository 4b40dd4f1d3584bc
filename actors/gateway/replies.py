"""What the gateway itself says to users: help, confirmations, and why input was refused.

Every function takes the user's language first; the texts are in :mod:`actors.texts`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from actors.billing.policy import format_usd
from actors.gateway.command_registry import main_commands
from actors.gateway.model_card import model_card
from actors.texts import LANGUAGE_NAMES, Language, say
from actors.thread.models import MODELS

MODEL_LABELS: Final = {model: spec.label for model, spec in MODELS.items()}
"""The models ``/model`` offers, in the order shown (the model registry's)."""

UNSUPPORTED_KINDS: Final = (
    "sticker",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "paid_media",
    "checklist",
    "live_photo",
    "invoice",
    "giveaway",
    "web_app_data",
    "passport_data",
)
"""Message kinds the bot cannot read (each named by the key ``unsupported.<kind>``)."""

MAX_PERSONALITY_CHARS: Final = 4000


def _commands_footer(language: Language) -> str:
    return f"{main_commands(language)}\n\n{say(language, 'gateway.help_hint')}"


def welcome(language: Language) -> str:
    """``/start`` from someone the bot does not know yet."""
    supported = say(language, "gateway.supported")
    intro = say(language, "gateway.welcome", supported=supported)
    return f"{intro}\n\n{_commands_footer(language)}"


def welcome_back(
    language: Language, first_name: str, balance: Decimal | None, model: str | None
) -> str:
    """``/start`` from a returning user: where they stand, and the main commands."""
    lines = [say(language, "gateway.welcome_back", first_name=first_name)]
    if balance is not None:
        lines.append(say(language, "gateway.welcome_balance", balance=format_usd(balance)))
    if model is not None:
        lines.append(say(language, "gateway.welcome_model", model=MODEL_LABELS.get(model, model)))
    return "\n".join(lines) + f"\n\n{_commands_footer(language)}"


def unsupported_kind(language: Language, kind: str) -> str:
    name = say(language, f"unsupported.{kind if kind in UNSUPPORTED_KINDS else 'other'}")
    supported = say(language, "gateway.supported")
    return say(language, "gateway.unsupported", name=name, supported=supported)


def file_too_large(
    language: Language, kind: str, file_name: str | None, size_bytes: int, limit_bytes: int
) -> str:
    """An attachment (``kind``: photo, document...) over Telegram's download limit."""
    if file_name:
        name = say(language, "gateway.file_named", file_name=file_name)
    else:
        name = say(language, f"file_kind.{kind}")
    return say(
        language,
        "gateway.file_too_large",
        name=name,
        size_mb=f"{size_bytes / 1_048_576:.1f}",
        limit_mb=f"{limit_bytes // 1_048_576}",
    )


def model_prompt(language: Language) -> str:
    return say(language, "gateway.model_prompt")


def model_chosen(language: Language, model: str) -> str:
    """The short confirmation (also the button's toast: at most 200 characters)."""
    return say(language, "gateway.model_chosen", model=MODEL_LABELS.get(model, model))


def model_info(language: Language, model: str) -> str:
    """The confirmation with the model's info card (context, prices, what it can do)."""
    return model_chosen(language, model) + "\n\n" + model_card(language, model)


def unknown_model(language: Language) -> str:
    return say(language, "gateway.unknown_model")


def thinking_prompt(language: Language) -> str:
    return say(language, "gateway.thinking_prompt")


def thinking_label(language: Language, level: str) -> str:
    """A thinking level as its button shows it."""
    return say(language, f"thinking.{level}")


def thinking_chosen(language: Language, level: str) -> str:
    if level == "off":
        return say(language, "gateway.thinking_off")
    return say(language, "gateway.thinking_chosen", level=thinking_label(language, level))


def unknown_thinking(language: Language) -> str:
    return say(language, "gateway.unknown_thinking")


def personality_set(language: Language) -> str:
    return say(language, "gateway.personality_set")


def personality_reset(language: Language) -> str:
    return say(language, "gateway.personality_reset")


def personality_too_long(language: Language, length: int) -> str:
    return say(language, "gateway.personality_too_long", length=length, limit=MAX_PERSONALITY_CHARS)


def personality_show(language: Language, personality: str | None) -> str:
    usage = say(language, "gateway.personality_usage")
    if personality is None:
        return say(language, "gateway.personality_default", usage=usage)
    return say(language, "gateway.personality_show", personality=personality, usage=usage)


def personality_unknown(language: Language) -> str:
    usage = say(language, "gateway.personality_usage")
    return say(language, "gateway.personality_unknown", usage=usage)


def language_prompt(language: Language) -> str:
    return say(language, "gateway.language_prompt")


def language_label(language: Language) -> str:
    """A language in its own words (its ``/language`` button)."""
    return LANGUAGE_NAMES[language]


def language_chosen(language: Language) -> str:
    """The confirmation, in the language just chosen."""
    return say(language, "gateway.language_chosen")


def unknown_language(language: Language) -> str:
    return say(language, "gateway.unknown_language")


def new_conversation(language: Language) -> str:
    return say(language, "gateway.new_conversation")


def internal_error(language: Language) -> str:
    return say(language, "gateway.internal_error")


def unavailable(language: Language, what: str) -> str:
    """A view could not be read; ``what`` is its key (``view.balance``...)."""
    return say(language, "gateway.unavailable", what=say(language, what))


def balance_sent_privately(language: Language) -> str:
    return say(language, "gateway.balance_sent_privately")


def balance_needs_private_chat(language: Language) -> str:
    return say(language, "gateway.balance_needs_private_chat")


def payment_needs_support(language: Language, charge_id: str) -> str:
    return say(language, "gateway.payment_needs_support", charge_id=charge_id)
