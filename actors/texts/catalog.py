"""The lookup over the per-language catalogs, and how a user's language is chosen."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

from actors.texts import en, ru

Language: TypeAlias = Literal["en", "ru"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "ru")
DEFAULT_LANGUAGE: Final[Language] = "en"
"""The language of a user whose Telegram language is not one the bot speaks."""

LANGUAGE_NAMES: Final[Mapping[Language, str]] = {"en": "English", "ru": "Русский"}
"""Each language in its own words (the ``/language`` buttons)."""

CATALOGS: Final[Mapping[Language, Mapping[str, str]]] = {"en": en.TEXTS, "ru": ru.TEXTS}


def parse_language(value: str | None) -> Language | None:
    """``value`` when it names a language the bot speaks (``en``, ``ru``), else None."""
    for language in LANGUAGES:
        if value == language:
            return language
    return None


def language_of(telegram_code: str | None, chosen: str | None = None) -> Language:
    """The language to speak to a user: the one they chose with ``/language``, else Russian
    for a Telegram language ``ru*``, else English."""
    picked = parse_language(chosen)
    if picked is not None:
        return picked
    if telegram_code is not None and telegram_code.strip().lower().startswith("ru"):
        return "ru"
    return DEFAULT_LANGUAGE


def say(language: Language, key: str, /, **values: object) -> str:
    """The text ``key`` in ``language`` with ``values`` filled in.

    A key a catalog lacks falls back to English (the catalog test keeps both complete); a
    key English lacks is a programming error (:class:`KeyError`).
    """
    template = CATALOGS[language].get(key)
    if template is None:
        template = en.TEXTS[key]
    return template.format(**values)


def placeholders(template: str) -> frozenset[str]:
    """The names of the placeholders of ``template`` (``{name}``, ``{name:spec}``)."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    )
