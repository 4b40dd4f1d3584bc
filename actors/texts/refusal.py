"""A refusal whose reason is a catalog key with its values, shown in any language.

Parsers and rules (typed numbers, margins, admin amounts, refunds) raise or return a
:class:`Refusal`; the caller shows ``refusal.text(language)`` to the person, and ``str()`` is
the English text (logs, a ledger record's ``detail``). A value may itself be a :class:`Term`
(a catalog key, e.g. what is refused: "the amount") or a :class:`Refusal` (a refusal inside
another), both put in the same language.
"""

from __future__ import annotations

from collections.abc import Mapping

from actors.texts.catalog import Language, say


class Term(str):
    """A value that is a catalog key: its text in the refusal's language is filled in."""

    __slots__ = ()


class Refusal(ValueError):
    """Why something was refused: ``key`` and ``values``; :meth:`text` in a language."""

    def __init__(self, key: str, /, **values: object) -> None:
        self.key = key
        self.values: Mapping[str, object] = values
        super().__init__(self.text("en"))

    def text(self, language: Language) -> str:
        return say(language, self.key, **{k: _shown(language, v) for k, v in self.values.items()})

    def plain_values(self) -> dict[str, str]:
        """The values as English strings (a record keeps them to be worded later)."""
        return {k: str(_shown("en", v)) for k, v in self.values.items()}


def _shown(language: Language, value: object) -> object:
    if isinstance(value, Term):
        return say(language, str(value))
    if isinstance(value, Refusal):
        return value.text(language)
    return value
