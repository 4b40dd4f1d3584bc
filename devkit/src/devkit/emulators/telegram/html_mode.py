"""Telegram's HTML parse mode: the supported tags, strict nesting, TDLib's error messages."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from .entities import Entity, EntityParseError, FormattedText, trim, utf16_len

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SUPPORTED = {*_SIMPLE, "a", "span", "tg-emoji", "blockquote"}
_ATTR = re.compile(r"""\s*([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")


@dataclass(slots=True)
class _Tag:
    name: str
    index: int
    offset: int
    entity_type: str | None
    url: str | None = None
    emoji: str | None = None


def _byte(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def parse_html(text: str) -> FormattedText:
    """Parse Telegram HTML into plain text and entities, or raise EntityParseError."""
    out: list[str] = []
    u16 = 0
    stack: list[_Tag] = []
    entities: list[Entity] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            m = _ENTITY.match(text, i)
            piece = html.unescape(m.group(0)) if m else "&"
            out.append(piece)
            u16 += utf16_len(piece)
            i = m.end() if m else i + 1
            continue
        if ch != "<":
            out.append(ch)
            u16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        close = text.find(">", i)
        if text.startswith("</", i):
            if close < 0:
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte(text, i)}")
            name = text[i + 2 : close].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {_byte(text, i)}")
            top = stack.pop()
            if name != top.name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {_byte(text, i)}, expected "</{top.name}>", '
                    f'found "</{name}>"'
                )
            if not (top.name == "code" and stack and stack[-1].name == "pre"):
                _finish(top, u16, entities)
            i = close + 1
            continue
        if close < 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte(text, i)}")
        body = text[i + 1 : close]
        m_name = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", body)
        name = m_name.group(0).lower() if m_name else ""
        if name not in _SUPPORTED:
            raise EntityParseError(
                f'Unsupported start tag "{name or body}" at byte offset {_byte(text, i)}'
            )
        attrs: dict[str, str] = {}
        for am in _ATTR.finditer(body, len(name)):
            if am.group(1):
                attrs[am.group(1).lower()] = html.unescape(
                    am.group(2) or am.group(3) or am.group(4) or ""
                )
        tag = _Tag(name, i, u16, _SIMPLE.get(name))
        if name == "a":
            href = attrs.get("href", "")
            tag.entity_type = "text_link" if href else None
            tag.url = href or None
        elif name == "span":
            if attrs.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {_byte(text, i)}'
                )
            tag.entity_type = "spoiler"
        elif name == "tg-emoji":
            emoji = attrs.get("emoji-id", "")
            if not emoji.isdigit():
                raise EntityParseError(
                    f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {_byte(text, i)}'
                )
            tag.entity_type, tag.emoji = "custom_emoji", emoji
        elif name == "blockquote":
            tag.entity_type = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        elif name == "code" and stack and stack[-1].name == "pre":
            cls = attrs.get("class", "")
            if cls.startswith("language-"):
                stack[-1].url = cls[len("language-") :]  # language stored on the pre tag
        stack.append(tag)
        i = close + 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return trim("".join(out), entities)


def _finish(tag: _Tag, end: int, entities: list[Entity]) -> None:
    length = end - tag.offset
    if length <= 0 or tag.entity_type is None:
        return
    if tag.name == "pre":
        entities.append(Entity("pre", tag.offset, length, language=tag.url))
    elif tag.entity_type == "text_link":
        entities.append(Entity("text_link", tag.offset, length, url=tag.url))
    elif tag.entity_type == "custom_emoji":
        entities.append(Entity("custom_emoji", tag.offset, length, custom_emoji_id=tag.emoji))
    else:
        entities.append(Entity(tag.entity_type, tag.offset, length))
