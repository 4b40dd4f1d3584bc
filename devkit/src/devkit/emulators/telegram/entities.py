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


class EntityRangeError(ValueError):
    """Explicit entities that do not fit the text; str() is Telegram's description."""


MAX_ENTITY_BOUND = 1_000_000
ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention", "custom_emoji",
        "date_time",
    }
)  # fmt: skip


def _inside_surrogate_pair(text: str, offset: int) -> bool:
    """Whether UTF-16 ``offset`` falls between the two halves of a character of ``text``."""
    at = 0
    for ch in text:
        if at >= offset:
            return False
        at += 2 if ord(ch) > 0xFFFF else 1
        if at > offset:
            return True
    return False


def check_entities(text: str, given: list[Entity]) -> list[Entity]:
    """Explicit entities as Telegram checks them (offsets and lengths in UTF-16 code units,
    inside the text, never splitting a character; a known type; a URL for text_link); empty
    ones are dropped. Raise :class:`EntityRangeError` with Telegram's description."""
    total = utf16_len(text)
    kept: list[Entity] = []
    for e in given:
        if e.offset < 0 or e.offset > MAX_ENTITY_BOUND:
            raise EntityRangeError(f"receive an entity with incorrect offset {e.offset}")
        if e.length < 0 or e.length > MAX_ENTITY_BOUND:
            raise EntityRangeError(f"receive an entity with incorrect length {e.length}")
        if e.type not in ENTITY_TYPES:
            raise EntityRangeError("can't parse MessageEntity: Unsupported type specified")
        if e.type == "text_link" and not e.url:
            raise EntityRangeError('can\'t parse MessageEntity: Field "url" must be non-empty')
        if e.length == 0:
            continue
        if e.offset > total:
            raise EntityRangeError(
                f"entity begins after the end of the text at UTF-16 offset {e.offset}"
            )
        if e.offset + e.length > total:
            raise EntityRangeError(
                f"entity beginning at UTF-16 offset {e.offset} ends after the end of the text "
                f"at UTF-16 offset {e.offset + e.length}"
            )
        if _inside_surrogate_pair(text, e.offset) or _inside_surrogate_pair(
            text, e.offset + e.length
        ):
            raise EntityRangeError("entity boundary is in the middle of a UTF-16 symbol")
        kept.append(e)
    return kept


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
