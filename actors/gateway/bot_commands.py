"""Arguments of the bot's commands: ``/model``, ``/thinking`` and ``/language`` choices,
``/personality`` actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from actors.gateway.replies import MAX_PERSONALITY_CHARS, MODEL_LABELS
from actors.texts import LANGUAGE_NAMES, Language, parse_language
from actors.thread.models import parse_model_name as registry_model_name
from actors.thread.thinking import ThinkingLevel, parse_level
from events.usage import ModelId

MODEL_CALLBACK_PREFIX: Final = "model:"
THINKING_CALLBACK_PREFIX: Final = "thinking:"
LANGUAGE_CALLBACK_PREFIX: Final = "language:"
RESET_WORDS: Final = frozenset({"reset", "default", "clear"})


def model_callback_data(model: ModelId) -> str:
    """The callback data of a ``/model`` keyboard button (at most 64 bytes)."""
    return MODEL_CALLBACK_PREFIX + model


def parse_model_callback(data: str | None) -> ModelId | None:
    """The model a ``/model`` button names, or ``None`` if it names no offered model."""
    if data is None or not data.startswith(MODEL_CALLBACK_PREFIX):
        return None
    model = data.removeprefix(MODEL_CALLBACK_PREFIX)
    return model if model in MODEL_LABELS else None


def parse_model_name(text: str) -> ModelId | None:
    """``/model sonnet``, ``/model flash-lite`` (a name the registry lists, or an API id), or
    ``None``."""
    return registry_model_name(text)


def thinking_callback_data(level: str) -> str:
    """The callback data of a ``/thinking`` keyboard button."""
    return THINKING_CALLBACK_PREFIX + level


def parse_thinking_callback(data: str | None) -> ThinkingLevel | None:
    """The level a ``/thinking`` button names, or ``None``."""
    if data is None or not data.startswith(THINKING_CALLBACK_PREFIX):
        return None
    return parse_level(data.removeprefix(THINKING_CALLBACK_PREFIX))


def language_callback_data(language: Language) -> str:
    """The callback data of a ``/language`` keyboard button."""
    return LANGUAGE_CALLBACK_PREFIX + language


def parse_language_callback(data: str | None) -> Language | None:
    """The language a ``/language`` button names, or ``None``."""
    if data is None or not data.startswith(LANGUAGE_CALLBACK_PREFIX):
        return None
    return parse_language(data.removeprefix(LANGUAGE_CALLBACK_PREFIX))


def parse_language_name(text: str) -> Language | None:
    """``/language ru``, ``/language English``, ``/language русский``, or ``None``."""
    word = text.strip().lower()
    for language, name in LANGUAGE_NAMES.items():
        if word in (language, name.lower()):
            return language
    return None


@dataclass(frozen=True, slots=True)
class PersonalityAction:
    kind: Literal["show", "set", "reset", "too_long"]
    text: str | None = None


def parse_personality(args: str | None) -> PersonalityAction:
    """``/personality`` shows, ``/personality reset`` resets, ``/personality <text>`` sets."""
    text = (args or "").strip()
    if not text:
        return PersonalityAction("show")
    if text.lower() in RESET_WORDS:
        return PersonalityAction("reset")
    if len(text) > MAX_PERSONALITY_CHARS:
        return PersonalityAction("too_long", text)
    return PersonalityAction("set", text)
