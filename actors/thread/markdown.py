"""Claude's Markdown -> text and Telegram message entities, parsed by markdown-it-py.

markdown-it-py (CommonMark, with GitHub's tables and ``~~strikethrough~~``) parses; this
module only walks its syntax tree. What Telegram can show becomes an entity: ``**bold**``,
``*italic*``, ``~~strike~~``, ``inline code``, fenced and indented code (``pre`` with its
language), ``[links](https://...)``, ``> quotes`` (a blockquote; a quote inside a quote is
not a second one). The rest is laid out in text: headings bold on their own line, list items
with a bullet or their number (nested lists indented), rules as a line, and tables as an
aligned monospaced block. Raw HTML is shown as written.

Half-streamed drafts render predictably because CommonMark does: an unclosed code fence runs
to the end of the text, and an unclosed ``**`` or ``[`` is literal text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from actors.thread.telegram_text import Entity, Rendered, sort_entities, utf16_len

_PARSER: Final = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_STYLES: Final = {"strong": "bold", "em": "italic", "s": "strikethrough"}
_BULLETS: Final = ("•", "◦", "▪")
_LINK_SCHEMES: Final = ("http://", "https://", "tg://", "mailto:", "ftp://")
RULE: Final = "———"


@dataclass(slots=True)
class _Out:
    """Text being written, its UTF-16 position, its entities and the open ones."""

    parts: list[str] = field(default_factory=list)
    at: int = 0
    entities: list[Entity] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    pending_breaks: int = 0

    def write(self, text: str) -> None:
        if not text:
            return
        self._flush()
        self.parts.append(text)
        self.at += utf16_len(text)

    def separate(self, breaks: int) -> None:
        """At least ``breaks`` newlines before whatever is written next (none at the start)."""
        self.pending_breaks = max(self.pending_breaks, breaks)

    def _flush(self) -> None:
        if self.pending_breaks and self.parts:
            self.parts.append("\n" * self.pending_breaks)
            self.at += self.pending_breaks
        self.pending_breaks = 0

    def open(self, kind: str) -> int | None:
        """Start an entity here; None when one of its kind is already open (not nested)."""
        if kind in self.active or (kind == "blockquote" and "pre" in self.active):
            return None
        self._flush()
        self.active.append(kind)
        return self.at

    def close(self, kind: str, start: int | None, **extra: str | None) -> None:
        if start is None:
            return
        self.active.remove(kind)
        if self.at > start:
            self.entities.append(Entity(kind, start, self.at - start, **extra))


def _plain(node: SyntaxTreeNode) -> str:
    """The visible text of an inline node (for table cells and link labels)."""
    if node.type in ("text", "code_inline", "html_inline"):
        return node.content
    if node.type in ("softbreak", "hardbreak"):
        return " "
    return "".join(_plain(child) for child in node.children)


def _link_url(node: SyntaxTreeNode) -> str | None:
    url = str(node.attrs.get("href") or node.attrs.get("src") or "")
    return url if url.startswith(_LINK_SCHEMES) else None


def _inline(node: SyntaxTreeNode, out: _Out) -> None:
    for child in node.children:
        kind = child.type
        if kind in ("text", "html_inline"):
            out.write(child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.write("\n")
        elif kind == "code_inline":
            start = out.open("code")
            out.write(child.content)
            out.close("code", start)
        elif kind in _STYLES:
            start = out.open(_STYLES[kind])
            _inline(child, out)
            out.close(_STYLES[kind], start)
        elif kind in ("link", "image"):
            _link(child, out)
        else:
            _inline(child, out)


def _link(node: SyntaxTreeNode, out: _Out) -> None:
    url = _link_url(node)
    label = _plain(node) if node.type == "image" else None
    start = out.open("text_link") if url is not None else None
    if label is not None:
        out.write(label or url or "")
    else:
        _inline(node, out)
    out.close("text_link", start, url=url)


def _table(node: SyntaxTreeNode, out: _Out) -> None:
    rows = [
        [_plain(cell.children[0]) if cell.children else "" for cell in row.children]
        for section in node.children
        for row in section.children
    ]
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    lines = [
        " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) for row in rows
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    start = out.open("pre")
    out.write("\n".join(line.rstrip() for line in lines))
    out.close("pre", start)


def _list(node: SyntaxTreeNode, out: _Out, depth: int) -> None:
    number = int(str(node.attrs.get("start", 1)))
    tight = not any(
        grand.type == "paragraph" and not grand.hidden
        for item in node.children
        for grand in item.children
    )
    for item in node.children:
        out.separate(1 if tight else 2)
        if node.type == "ordered_list":
            marker = f"{number}. "
            number += 1
        else:
            marker = f"{_BULLETS[min(depth, len(_BULLETS) - 1)]} "
        out.write("  " * depth + marker)
        _blocks(item.children, out, depth + 1, tight=tight)


def _blocks(nodes: list[SyntaxTreeNode], out: _Out, depth: int = 0, *, tight: bool = False) -> None:
    """Blocks one after another: a blank line between them (a line break in tight lists)."""
    for index, node in enumerate(nodes):
        if index:
            out.separate(1 if tight else 2)
        _block(node, out, depth)


def _block(node: SyntaxTreeNode, out: _Out, depth: int) -> None:
    kind = node.type
    if kind == "paragraph" or kind == "inline":
        for child in node.children if kind == "paragraph" else [node]:
            _inline(child, out)
    elif kind == "heading":
        start = out.open("bold")
        _inline(node.children[0], out)
        out.close("bold", start)
    elif kind in ("fence", "code_block"):
        start = out.open("pre")
        out.write(node.content.rstrip("\n") or " ")
        language = node.info.split()[0] if node.info.strip() else None
        out.close("pre", start, language=language)
    elif kind == "blockquote":
        start = out.open("blockquote")
        _blocks(node.children, out, depth)
        out.close("blockquote", start)
    elif kind in ("bullet_list", "ordered_list"):
        _list(node, out, depth)
    elif kind == "table":
        _table(node, out)
    elif kind == "hr":
        out.write(RULE)
    elif kind == "html_block":
        out.write(node.content.rstrip("\n"))
    else:
        _blocks(node.children, out, depth)


def render_markdown(markdown: str) -> Rendered:
    """The text and entities Telegram shows for ``markdown`` (trimmed, as Telegram trims)."""
    out = _Out()
    _blocks(SyntaxTreeNode(_PARSER.parse(markdown)).children, out)
    return Rendered("".join(out.parts), sort_entities(out.entities)).strip()
