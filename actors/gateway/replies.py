"""What the gateway itself says to users: help, confirmations, and why input was refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from actors.billing.policy import format_usd
from actors.gateway.command_registry import main_commands
from actors.gateway.model_card import model_card
from actors.thread.models import MODELS

MODEL_LABELS: Final = {model: spec.label for model, spec in MODELS.items()}
"""The models ``/model`` offers, in the order shown (the model registry's)."""

UNSUPPORTED_NAMES: Final = {
    "sticker": "stickers",
    "location": "locations",
    "venue": "venues",
    "contact": "contacts",
    "poll": "polls",
    "dice": "dice",
    "game": "games",
    "story": "stories",
    "paid_media": "paid media",
    "checklist": "checklists",
    "live_photo": "live photos",
    "invoice": "invoices",
    "giveaway": "giveaways",
    "web_app_data": "web app data",
    "passport_data": "Telegram Passport data",
}

SUPPORTED_SUMMARY: Final = "text, photos, documents (PDF, code, text...), voice, audio and video"

WELCOME: Final = (
    "Hi! I'm Claude, here in Telegram. Write to me and watch the answer appear.\n\n"
    f"I read {SUPPORTED_SUMMARY}. Every forum topic is its own conversation."
)


def welcome() -> str:
    """``/start`` from someone the bot does not know yet."""
    return f"{WELCOME}\n\n{main_commands()}\n\n/help lists every command."


def welcome_back(first_name: str, balance: Decimal | None, model: str | None) -> str:
    """``/start`` from a returning user: where they stand, and the main commands."""
    lines = [f"Welcome back, {first_name}!"]
    if balance is not None:
        lines.append(f"Balance: ${format_usd(balance)}")
    if model is not None:
        lines.append(f"Model: {MODEL_LABELS.get(model, model)}")
    return "\n".join(lines) + f"\n\n{main_commands()}\n\n/help lists every command."


MAX_PERSONALITY_CHARS: Final = 4000


def unsupported_kind(kind: str) -> str:
    name = UNSUPPORTED_NAMES.get(kind, "this kind of message")
    return f"Sorry, I can't read {name}. I understand {SUPPORTED_SUMMARY}."


def file_too_large(name: str, size_bytes: int, limit_bytes: int) -> str:
    return (
        f"{name} is {size_bytes / 1_048_576:.1f} MB; Telegram lets bots download files of up to "
        f"{limit_bytes // 1_048_576} MB, so I can't read it. Please send a smaller file "
        "(or split it)."
    )


def model_prompt() -> str:
    return "Choose the model for your conversations (Claude or Gemini):"


def model_chosen(model: str) -> str:
    """The short confirmation (also the button's toast: at most 200 characters)."""
    return f"Model set to {MODEL_LABELS.get(model, model)}. It applies from your next message."


def model_info(model: str) -> str:
    """The confirmation with the model's info card (context, prices, what it can do)."""
    return model_chosen(model) + "\n\n" + model_card(model)


def unknown_model() -> str:
    return "That model is not available; choose one with /model."


def thinking_prompt() -> str:
    return (
        "How hard should Claude think before answering? More thinking gives better answers "
        "to hard questions, takes longer and costs more (thinking is billed as output):"
    )


def thinking_chosen(level: str) -> str:
    if level == "off":
        return "Thinking is off. It applies from your next message."
    return f"Thinking set to {level}. It applies from your next message."


def unknown_thinking() -> str:
    return "Choose one of: off, low, medium, high, max (for example /thinking high)."


def personality_set() -> str:
    return "Personality saved. It applies from your next message."


def personality_reset() -> str:
    return "Personality reset to the default."


def personality_too_long(length: int) -> str:
    return (
        f"That personality is {length} characters long; the limit is "
        f"{MAX_PERSONALITY_CHARS}. Please shorten it."
    )


def personality_show(personality: str | None) -> str:
    usage = "Set it with /personality <text>, reset it with /personality reset."
    if personality is None:
        return f"You use the default personality. {usage}"
    return f"Your personality:\n\n{personality}\n\n{usage}"


def personality_unknown() -> str:
    return (
        "I can't look up your personality right now. "
        "Set it with /personality <text>, reset it with /personality reset."
    )


def new_conversation() -> str:
    return "New conversation started: I've forgotten this thread's earlier messages."


def internal_error() -> str:
    return "Sorry, something went wrong on my side handling that. Please try again."


def unavailable(what: str) -> str:
    return f"I can't read {what} right now. Please try again in a minute."


def balance_sent_privately() -> str:
    return "I've sent your balance to you in a private message."


def balance_needs_private_chat() -> str:
    return (
        "Your balance is private, so I only show it in our private chat: "
        "open a chat with me, press Start, then send /balance there."
    )


def payment_needs_support(charge_id: str) -> str:
    return (
        "Thank you! Your payment is received and recorded, but I could not read its invoice, "
        "so it is not on your balance yet. Please write /paysupport with this transaction id "
        f"and an administrator will credit it: {charge_id}"
    )
