"""Turn (text, parse_mode, entities) into what a chat shows, with Telegram's checks."""

from __future__ import annotations

from typing import Any

from .entities import (
    Entity,
    EntityParseError,
    FormattedText,
    check_entities,
    trim,
    utf16_len,
)
from .html_mode import parse_html
from .markdown_v2 import parse_markdown_v2

MAX_TEXT = 4096
MAX_CAPTION = 1024


def parse_legacy_markdown(text: str) -> FormattedText:
    """Telegram's legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out: list[str] = []
    entities: list[Entity] = []
    u16 = 0
    i, n = 0, len(text)
    pairs = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "*_`[":
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise _legacy_error(text, i)
            body = text[i + 3 : end]
            entities.append(Entity("pre", u16, utf16_len(body)))
            out.append(body)
            u16 += utf16_len(body)
            i = end + 3
            continue
        if ch in pairs:
            end = text.find(ch, i + 1)
            if end < 0:
                raise _legacy_error(text, i)
            body = text[i + 1 : end]
            if body:
                entities.append(Entity(pairs[ch], u16, utf16_len(body)))
            out.append(body)
            u16 += utf16_len(body)
            i = end + 1
            continue
        if ch == "[":
            end = text.find("](", i)
            close = text.find(")", end) if end >= 0 else -1
            if end < 0 or close < 0:
                raise _legacy_error(text, i)
            body, url = text[i + 1 : end], text[end + 2 : close]
            entities.append(Entity("text_link", u16, utf16_len(body), url=url))
            out.append(body)
            u16 += utf16_len(body)
            i = close + 1
            continue
        out.append(ch)
        u16 += 2 if ord(ch) > 0xFFFF else 1
        i += 1
    return trim("".join(out), entities)


def _legacy_error(text: str, index: int) -> EntityParseError:
    offset = len(text[:index].encode("utf-8"))
    return EntityParseError(f"Can't find end of the entity starting at byte offset {offset}")


def format_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> FormattedText:
    """Parse by parse_mode (explicit entities win, as in the Bot API); raise EntityParseError
    for markup Telegram cannot parse, EntityRangeError for entities that do not fit the text.
    Explicit entities are checked, then the text is trimmed as Telegram trims it."""
    if entities:
        given = check_entities(text, [Entity.from_json(e) for e in entities])
        return trim(text, given)
    mode = (parse_mode or "").lower()
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "html":
        return parse_html(text)
    if mode == "markdown":
        return parse_legacy_markdown(text)
    if mode:
        raise UnsupportedParseMode(parse_mode or "")
    return trim(text, [])


class UnsupportedParseMode(ValueError):
    """parse_mode is none of MarkdownV2, HTML, Markdown."""
