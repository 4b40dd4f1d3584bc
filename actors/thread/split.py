"""Splitting a long answer into Telegram messages of at most 4096 UTF-16 code units.

The rendered text (text + entities, :mod:`actors.thread.telegram_text`) is cut, not the
Markdown: on a paragraph boundary if one falls in the second half of the room, else on a line
boundary, else between words, else anywhere (never inside a character). The parts cover the
text exactly, one after another; an entity that spans a cut is closed at the end of one part
and reopened at the start of the next (a code block stays a code block, a link keeps its
URL). Each part is sent trimmed (:meth:`Rendered.strip`), as Telegram would trim it.
"""

from __future__ import annotations

from typing import Final

from actors.telegram_text import utf16_len
from actors.thread.telegram_text import Rendered

__all__ = ["TELEGRAM_LIMIT", "split_plain", "split_rendered", "tail_rendered", "utf16_len"]

TELEGRAM_LIMIT: Final = 4096
_BREAKS: Final = ("\n\n", "\n", " ")


def _fit(text: str, start: int, limit: int) -> int:
    """The largest end index with ``text[start:end]`` within ``limit`` UTF-16 units (at least
    one character past ``start``)."""
    total = 0
    for index in range(start, len(text)):
        total += 2 if ord(text[index]) > 0xFFFF else 1
        if total > limit:
            return max(index, start + 1)
    return len(text)


def _cut(text: str, start: int, end: int) -> int:
    """Where the part starting at ``start`` ends, at most at ``end``: after the last break
    in the second half of ``[start, end)``, by preference a blank line, then a line end,
    then a space; else at ``end``."""
    if end >= len(text):
        return end
    half = start + (end - start) // 2
    for mark in _BREAKS:
        found = text.rfind(mark, half, end)
        if found >= 0:
            return found + len(mark)
    return end


def bounds(text: str, limit: int = TELEGRAM_LIMIT) -> list[tuple[int, int]]:
    """Character ranges of the parts: consecutive, covering ``text``, each within ``limit``."""
    out: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        end = _cut(text, start, _fit(text, start, limit))
        out.append((start, end))
        start = end
    return out


def split_rendered(rendered: Rendered, limit: int = TELEGRAM_LIMIT) -> list[Rendered]:
    """``rendered`` in parts of at most ``limit`` UTF-16 units that, joined, are ``rendered``
    (entities cut at a part's edge are closed there and reopened in the next part)."""
    return [rendered.slice(start, end) for start, end in bounds(rendered.text, limit)]


def tail_rendered(rendered: Rendered, limit: int) -> Rendered:
    """The longest end of ``rendered`` within ``limit`` UTF-16 units, starting after a break
    (blank line, line end, space) when one falls in the first half of it; trimmed."""
    text = rendered.text
    start, total = len(text), 0
    while start > 0:
        width = 2 if ord(text[start - 1]) > 0xFFFF else 1
        if total + width > limit:
            break
        total += width
        start -= 1
    if start > 0:
        half = start + (len(text) - start) // 2
        for mark in _BREAKS:
            found = text.find(mark, start, half)
            if found >= 0:
                start = found + len(mark)
                break
    return rendered.slice(start, len(text)).strip()


def split_plain(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Plain text in trimmed, non-empty parts of at most ``limit`` (for notices)."""
    parts = (text[start:end].strip() for start, end in bounds(text, limit))
    return [part for part in parts if part]
