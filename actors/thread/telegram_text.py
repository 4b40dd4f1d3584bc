"""Text as Telegram shows it: plain text plus message entities (bold, links, code blocks...).

The thread sends every answer as ``text`` + ``entities`` (no parse mode), so nothing is
escaped and Telegram has nothing to refuse. Offsets and lengths count UTF-16 code units, as
Telegram's do. Every :class:`Rendered` keeps its entities inside its text, sorted by offset
(outer first), with no empty entity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Final

from actors.telegram_text import utf16_len

__all__ = ["ENTITY_TYPES", "Entity", "Rendered", "concat", "sort_entities", "styled", "utf16_len"]

ENTITY_TYPES: Final = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "blockquote",
        "expandable_blockquote",
    }
)
"""The entity types the thread produces."""


@dataclass(frozen=True, slots=True)
class Entity:
    """One MessageEntity: ``type`` over ``[offset, offset + length)`` in UTF-16 units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length

    def clipped(self, start: int, end: int, shift: int) -> Entity | None:
        """The part of this entity within ``[start, end)``, moved by ``-shift``; None when
        nothing of it is there."""
        lo, hi = max(self.offset, start), min(self.end, end)
        if hi <= lo:
            return None
        return replace(self, offset=lo - shift, length=hi - lo)


def sort_entities(entities: Iterable[Entity]) -> tuple[Entity, ...]:
    """Telegram's order: by offset, the longer (outer) first."""
    return tuple(sorted(entities, key=lambda e: (e.offset, -e.length)))


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message's text and its entities."""

    text: str
    entities: tuple[Entity, ...] = field(default=())

    @property
    def length(self) -> int:
        """The length in UTF-16 units (Telegram's 4096 limit counts these)."""
        return utf16_len(self.text)

    def slice(self, start: int, end: int) -> Rendered:
        """The text between character indexes ``start`` and ``end``, with the entities cut
        at the edges (closed at the end of this part, reopened at the start of the next)."""
        lo = utf16_len(self.text[:start])
        hi = lo + utf16_len(self.text[start:end])
        kept = (e.clipped(lo, hi, lo) for e in self.entities)
        return Rendered(self.text[start:end], sort_entities(e for e in kept if e is not None))

    def strip(self) -> Rendered:
        """Without leading and trailing whitespace (Telegram trims a message so)."""
        body = self.text.strip()
        if not body:
            return Rendered("")
        start = len(self.text) - len(self.text.lstrip())
        return self.slice(start, start + len(body))


def concat(parts: Iterable[Rendered], separator: str = "\n\n") -> Rendered:
    """``parts`` one after another (empty ones left out), ``separator`` between them."""
    text: list[str] = []
    entities: list[Entity] = []
    at = 0
    for part in parts:
        if not part.text:
            continue
        if text:
            text.append(separator)
            at += utf16_len(separator)
        entities += [replace(e, offset=e.offset + at) for e in part.entities]
        text.append(part.text)
        at += part.length
    return Rendered("".join(text), sort_entities(entities))


def styled(text: str, kind: str) -> Rendered:
    """``text`` under one entity ``kind`` (none when ``text`` is empty)."""
    if not text:
        return Rendered("")
    return Rendered(text, (Entity(kind, 0, utf16_len(text)),))
