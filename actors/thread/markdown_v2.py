"""Claude's Markdown -> Telegram MarkdownV2 (escaped correctly), and a plain-text rendering.

Claude writes CommonMark-ish Markdown: ``**bold**``, ``*italic*``/``_italic_``,
``~~strike~~``, ``inline code``, fenced code blocks, ``[links](url)``, ``# headings``,
``> quotes`` and lists. Telegram's MarkdownV2 is stricter: every reserved character outside
an entity must be escaped, and an unclosed marker is a "can't parse entities" error.

The converter parses what it recognises into a tiny tree and escapes everything else, so its
output is always well-formed: an unmatched ``*`` (a half-streamed draft, a multiplication)
comes out as a literal ``\\*``. Inline markup never spans lines. :func:`to_plain` renders the
same tree without markup, for the plain-text fallback when Telegram still rejects entities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias

RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!\\")
_MD_ESCAPABLE: Final = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

StyleKind: TypeAlias = Literal["bold", "italic", "strike"]
_MARKS: Final[dict[StyleKind, str]] = {"bold": "*", "italic": "_", "strike": "~"}

_FENCE: Final = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)\s*$")
_HEADING: Final = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_QUOTE: Final = re.compile(r"^\s{0,3}>\s?(.*)$")
_BULLET: Final = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_ORDERED: Final = re.compile(r"^(\s*)(\d{1,9})[.)]\s+(.*)$")
_RULE: Final = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_LANG: Final = re.compile(r"[^A-Za-z0-9_+#.-]")


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Code:
    text: str


@dataclass(frozen=True, slots=True)
class Styled:
    kind: StyleKind
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Link:
    children: tuple[Inline, ...]
    url: str


Inline: TypeAlias = Text | Code | Styled | Link


@dataclass(frozen=True, slots=True)
class Line:
    """A line of prose: ``prefix`` is a bullet/number/quote marker rendered as given."""

    inlines: tuple[Inline, ...]
    prefix: str = ""
    quote: bool = False
    heading: bool = False


@dataclass(frozen=True, slots=True)
class Pre:
    code: str
    language: str = ""


Block: TypeAlias = Line | Pre


@dataclass(slots=True)
class _Parser:
    source: str
    disabled: frozenset[str] = field(default_factory=frozenset)

    def parse(self) -> tuple[Inline, ...]:
        s = self.source
        n = len(s)
        out: list[Inline] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                out.append(Text("".join(buf)))
                buf.clear()

        i = 0
        while i < n:
            ch = s[i]
            if ch == "\\" and i + 1 < n and s[i + 1] in _MD_ESCAPABLE:
                buf.append(s[i + 1])
                i += 2
                continue
            if ch == "`":
                run = _run_length(s, i, "`")
                end = _find_code_end(s, i + run, run)
                if end != -1 and end > i + run:
                    flush()
                    out.append(Code(s[i + run : end]))
                    i = end + run
                    continue
                buf.append(s[i : i + run])
                i += run
                continue
            found = self._styled_at(i)
            if found is not None:
                node, i = found
                flush()
                out.append(node)
                continue
            if ch == "[" and "link" not in self.disabled:
                link = self._link_at(i)
                if link is not None:
                    node_link, i = link
                    flush()
                    out.append(node_link)
                    continue
            buf.append(ch)
            i += 1
        flush()
        return tuple(out)

    def _styled_at(self, i: int) -> tuple[Inline, int] | None:
        s = self.source
        for marker, kind in (("**", "bold"), ("__", "bold"), ("~~", "strike")):
            if s.startswith(marker, i) and kind not in self.disabled:
                end = _find_closing(s, i + 2, marker)
                if end != -1:
                    inner = s[i + 2 : end]
                    children = _Parser(inner, self.disabled | {kind}).parse()
                    return Styled(kind, children), end + 2  # type: ignore[arg-type]
        ch = s[i]
        if ch in "*_" and "italic" not in self.disabled and not s.startswith(ch * 2, i):
            if ch == "_" and i > 0 and s[i - 1].isalnum():
                return None  # snake_case, not emphasis
            end = _find_closing(s, i + 1, ch)
            while end != -1 and (
                s.startswith(ch * 2, end)
                or s[end - 1] == ch
                or (ch == "_" and end + 1 < len(s) and s[end + 1].isalnum())
            ):
                end = _find_closing(s, end + 1, ch)
            if end != -1:
                children = _Parser(s[i + 1 : end], self.disabled | {"italic"}).parse()
                return Styled("italic", children), end + 1
        return None

    def _link_at(self, i: int) -> tuple[Inline, int] | None:
        s = self.source
        depth = 0
        j = i
        while j < len(s):
            if s[j] == "[":
                depth += 1
            elif s[j] == "]":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        else:
            return None
        if j + 1 >= len(s) or s[j + 1] != "(" or j == i + 1:
            return None
        close = _url_end(s, j + 2)
        if close == -1:
            return None
        url = s[j + 2 : close].strip()
        if not url or any(c.isspace() for c in url) or not _looks_like_url(url):
            return None
        children = _Parser(s[i + 1 : j], self.disabled | {"link"}).parse()
        return Link(children, url), close + 1


def _url_end(s: str, start: int) -> int:
    """Index of the ``)`` closing a link target, allowing balanced parentheses inside."""
    depth = 0
    for j in range(start, len(s)):
        if s[j] == "(":
            depth += 1
        elif s[j] == ")":
            if depth == 0:
                return j
            depth -= 1
    return -1


def _looks_like_url(url: str) -> bool:
    if url.startswith(("http://", "https://", "tg://", "mailto:", "ftp://")):
        return True
    return "." in url.split("/", 1)[0]


def _run_length(s: str, i: int, ch: str) -> int:
    j = i
    while j < len(s) and s[j] == ch:
        j += 1
    return j - i


def _find_code_end(s: str, start: int, run: int) -> int:
    j = start
    while True:
        j = s.find("`" * run, j)
        if j == -1:
            return -1
        if _run_length(s, j, "`") == run:
            return j
        j += _run_length(s, j, "`")


def _find_closing(s: str, start: int, marker: str) -> int:
    """The closing ``marker`` after ``start`` with non-blank content hugging both ends."""
    if start >= len(s) or s[start].isspace():
        return -1
    j = start
    while True:
        j = s.find(marker, j)
        if j == -1:
            return -1
        if j > start and not s[j - 1].isspace():
            return j
        j += 1


def _unbold(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Nested bold inside a bold heading: keep the text, drop the redundant entity."""
    out: list[Inline] = []
    for node in nodes:
        if isinstance(node, Styled) and node.kind == "bold":
            out.extend(_unbold(node.children))
        elif isinstance(node, Styled):
            out.append(Styled(node.kind, _unbold(node.children)))
        else:
            out.append(node)
    return tuple(out)


def parse_inline(text: str) -> tuple[Inline, ...]:
    return _Parser(text).parse()


def parse_blocks(markdown: str) -> list[Block]:
    """Blocks of a Markdown document: prose lines and fenced code (an unclosed fence runs to
    the end of the text, as a half-streamed answer has it)."""
    blocks: list[Block] = []
    fence: str | None = None
    language = ""
    code: list[str] = []
    for raw in markdown.split("\n"):
        line = raw.rstrip("\r")
        fence_match = _FENCE.match(line)
        if fence is not None:
            if (
                fence_match
                and fence_match.group(1)[0] == fence[0]
                and not fence_match.group(2)
                and len(fence_match.group(1)) >= len(fence)
            ):
                blocks.append(Pre("\n".join(code), language))
                fence, code = None, []
                continue
            code.append(line)
            continue
        if fence_match:
            fence, language, code = fence_match.group(1), _LANG.sub("", fence_match.group(2)), []
            continue
        blocks.append(_prose_line(line))
    if fence is not None:
        blocks.append(Pre("\n".join(code), language))
    return blocks


def _prose_line(line: str) -> Line:
    if m := _RULE.match(line):
        return Line((Text("———"),))
    if m := _HEADING.match(line):
        return Line((Styled("bold", _unbold(parse_inline(m.group(2)))),), heading=True)
    if m := _QUOTE.match(line):
        return Line(parse_inline(m.group(1)), quote=True)
    if m := _BULLET.match(line):
        return Line(parse_inline(m.group(2)), prefix=f"{m.group(1)}• ")
    if m := _ORDERED.match(line):
        return Line(parse_inline(m.group(3)), prefix=f"{m.group(1)}{m.group(2)}. ")
    return Line(parse_inline(line))


# --------------------------------------------------------------------------- rendering


def escape(text: str) -> str:
    """Escape every MarkdownV2-reserved character so ``text`` shows literally."""
    return "".join("\\" + c if c in RESERVED else c for c in text)


def _escape_code(text: str) -> str:
    return text.replace("\\", "\\\\").replace("`", "\\`")


def _escape_url(url: str) -> str:
    return url.replace("\\", "\\\\").replace(")", "\\)")


def _merged(nodes: tuple[Inline, ...]) -> list[Inline]:
    """Adjacent siblings of one style become one (``_a__b_`` would read as underline)."""
    merged: list[Inline] = []
    for node in nodes:
        if isinstance(node, Styled) and not node.children:
            continue
        last = merged[-1] if merged else None
        if isinstance(node, Styled) and isinstance(last, Styled) and last.kind == node.kind:
            merged[-1] = Styled(node.kind, last.children + node.children)
        else:
            merged.append(node)
    return merged


def _inline_v2(nodes: tuple[Inline, ...]) -> str:
    out: list[str] = []
    for node in _merged(nodes):
        if isinstance(node, Text):
            out.append(escape(node.text))
        elif isinstance(node, Code):
            out.append("`" + _escape_code(node.text) + "`")
        elif isinstance(node, Styled):
            inner = _inline_v2(node.children)
            if _plain_inline(node.children).strip():
                mark = _MARKS[node.kind]
                out.append(mark + inner + mark)
            else:
                out.append(inner)
        else:
            label = _inline_v2(node.children)
            out.append("[" + label + "](" + _escape_url(node.url) + ")")
    return "".join(out)


def _plain_inline(nodes: tuple[Inline, ...]) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, (Text, Code)):
            out.append(node.text)
        elif isinstance(node, Styled):
            out.append(_plain_inline(node.children))
        else:
            label = _plain_inline(node.children)
            out.append(label if label == node.url else f"{label} ({node.url})")
    return "".join(out)


def render_v2(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Pre):
            lines.append(f"```{block.language}\n{_escape_code(block.code)}```")
        else:
            body = escape(block.prefix) + _inline_v2(block.inlines)
            lines.append((">" + body) if block.quote else body)
    return "\n".join(lines)


def render_plain(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Pre):
            lines.append(block.code)
        else:
            body = block.prefix + _plain_inline(block.inlines)
            lines.append(("> " + body) if block.quote else body)
    return "\n".join(lines)


def to_markdown_v2(markdown: str) -> str:
    """Telegram MarkdownV2 for Claude's Markdown; always parseable by Telegram."""
    return render_v2(parse_blocks(markdown))


def to_plain(markdown: str) -> str:
    """The same text without markup (the fallback when Telegram rejects the entities)."""
    return render_plain(parse_blocks(markdown))
