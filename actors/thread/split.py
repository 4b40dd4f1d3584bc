"""Splitting a long answer into Telegram messages of at most 4096 characters.

Telegram counts a message's length in UTF-16 code units after entity parsing. We split the
Markdown source (whose visible length is never below its converted visible length) on
paragraph boundaries if we can, else on line boundaries, else between words, else anywhere;
a fenced code block cut in two is closed at the end of one part and reopened (with its
language) at the start of the next, so no part breaks an entity.
"""

from __future__ import annotations

import re
from typing import Final

from actors.telegram_text import utf16_len

TELEGRAM_LIMIT: Final = 4096
_FENCE: Final = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)\s*$")


def _cut_at(text: str, limit: int) -> int:
    """The largest index i with utf16_len(text[:i]) <= limit (at least 1)."""
    total = 0
    for i, c in enumerate(text):
        total += 2 if ord(c) > 0xFFFF else 1
        if total > limit:
            return max(i, 1)
    return len(text)


def split_line(line: str, limit: int) -> list[str]:
    """A line longer than ``limit`` cut between words when possible."""
    parts: list[str] = []
    rest = line
    while utf16_len(rest) > limit:
        cut = _cut_at(rest, limit)
        space = rest.rfind(" ", 0, cut)
        if space > cut // 2:
            parts.append(rest[:space])
            rest = rest[space + 1 :]
        else:
            parts.append(rest[:cut])
            rest = rest[cut:]
    parts.append(rest)
    return parts


def split_plain(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Plain text in parts of at most ``limit`` (paragraph, line, word boundaries)."""
    return _split(text, limit, fences=False)


def split_markdown(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Markdown in parts of at most ``limit``, code fences closed and reopened at a cut."""
    return _split(text, limit, fences=True)


def _split(text: str, limit: int, *, fences: bool) -> list[str]:
    if utf16_len(text) <= limit:
        return [text] if text.strip() else []
    # reserve room for a closing fence and a reopening fence line in fenced parts
    reserve = 8 + 16 if fences else 0
    line_limit = max(16, limit - reserve)
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(split_line(line, line_limit) if utf16_len(line) > line_limit else [line])

    parts: list[str] = []
    current: list[str] = []
    size = 0
    fence: str | None = None  # the open fence marker in `current`
    language = ""
    last_blank = -1  # index in `current` of the last blank line outside a fence

    def emit(upto: int) -> None:
        nonlocal current, size, last_blank
        chunk = current[:upto]
        rest = current[upto:]
        open_fence, open_language = _fence_state(chunk) if fences else (None, "")
        body = "\n".join(chunk).strip("\n")
        if open_fence is not None:
            body += "\n" + open_fence
        if body.strip():
            parts.append(body)
        if open_fence is not None:
            rest = [open_fence + open_language, *rest]
        while rest and not rest[0].strip():
            rest = rest[1:]
        current = rest
        size = sum(utf16_len(x) + 1 for x in current)
        last_blank = -1

    for line in lines:
        cost = utf16_len(line) + 1
        closing = len(fence) + 1 if fence else 0
        if current and size + cost + closing > limit:
            if fence is None and last_blank > 0 and last_blank >= len(current) // 2:
                emit(last_blank)
            else:
                emit(len(current))
            if fences:
                fence, language = _fence_state(current)
        current.append(line)
        size += cost
        if fences:
            match = _FENCE.match(line)
            if match:
                if fence is None:
                    fence, language = match.group(1), match.group(2)
                elif match.group(1)[0] == fence[0] and not match.group(2):
                    fence = None
        if fence is None and not line.strip():
            last_blank = len(current) - 1
    if current:
        emit(len(current))
    _ = language
    return parts


def _fence_state(lines: list[str]) -> tuple[str | None, str]:
    fence: str | None = None
    language = ""
    for line in lines:
        match = _FENCE.match(line)
        if not match:
            continue
        if fence is None:
            fence, language = match.group(1), match.group(2)
        elif match.group(1)[0] == fence[0] and not match.group(2):
            fence, language = None, ""
    return fence, language
