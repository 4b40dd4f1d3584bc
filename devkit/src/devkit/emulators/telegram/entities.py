"""Message entities and formatted text, as Telegram returns them (offsets in UTF-16 units)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class EntityParseError(ValueError):
    """Raised when a text cannot be parsed; str() is Telegram's description after the colon."""


@dataclass(frozen=True, slots=True)
class Entity:
    """One MessageEntity: type, offset and length in UTF-16 code units, optional argument."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            out["url"] = self.url
        if self.language is not None:
            out["language"] = self.language
        if self.custom_emoji_id is not None:
            out["custom_emoji_id"] = self.custom_emoji_id
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entity:
        return cls(
            type=str(data["type"]),
            offset=int(data["offset"]),
            length=int(data["length"]),
            url=data.get("url"),
            language=data.get("language"),
            custom_emoji_id=data.get("custom_emoji_id"),
        )


@dataclass(frozen=True, slots=True)
class FormattedText:
    """Plain text (markup removed) plus its entities."""

    text: str
    entities: tuple[Entity, ...] = field(default=())

    def entities_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.entities]


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of Telegram's limits and offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def sort_entities(entities: list[Entity]) -> tuple[Entity, ...]:
    """Telegram's order: by offset, then longer (outer) entities first."""
    return tuple(sorted(entities, key=lambda e: (e.offset, -e.length)))


def trim(text: str, entities: list[Entity]) -> FormattedText:
    """Strip leading/trailing whitespace as Telegram does and clip entities to what remains."""
    stripped_left = text.lstrip()
    cut_left = utf16_len(text[: len(text) - len(stripped_left)])
    result = stripped_left.rstrip()
    total = utf16_len(result)
    out: list[Entity] = []
    for e in entities:
        start = max(e.offset - cut_left, 0)
        end = min(e.offset + e.length - cut_left, total)
        if end > start:
            out.append(Entity(e.type, start, end - start, e.url, e.language, e.custom_emoji_id))
    return FormattedText(result, sort_entities(out))
