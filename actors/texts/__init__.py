"""Every text a user sees, in every language the bot speaks: one catalog per language
(:mod:`actors.texts.en`, :mod:`actors.texts.ru`) and one lookup (:func:`say`).

A catalog maps a key (``area.what``: ``gateway.welcome``, ``command.pay``...) to a template
with named placeholders (``{balance}``), filled with :meth:`str.format`. Numbers, prices and
dates are formatted by the caller *before* they are passed, so they read the same in every
language. The language is always an explicit argument: nothing here keeps state.

Adding a text: add its key to *both* catalogs, with the same placeholders
(``tests/unit/texts`` fails otherwise), in a block with your area's key prefix.
"""

from actors.texts.catalog import (
    CATALOGS,
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    Language,
    language_of,
    parse_language,
    placeholders,
    say,
)

__all__ = [
    "CATALOGS",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "Language",
    "language_of",
    "parse_language",
    "placeholders",
    "say",
]
