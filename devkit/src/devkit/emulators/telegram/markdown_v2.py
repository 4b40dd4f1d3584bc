"""Telegram's MarkdownV2 parser, following the Bot API rules and TDLib's error messages.

Rules (https://core.telegram.org/bots/api#markdownv2-style):
- any character with code 1..126 may be escaped by a preceding backslash;
- inside code and pre only '`' and '\\' are special;
- inside the (...) of a link only ')' and '\\' are special;
- elsewhere ``_*[]()~`>#+-=|{}.!`` must be escaped;
- ``__`` is greedily underline; '>' at a line start begins a block quote, ``**>`` an
  expandable one ending with ``||``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .entities import Entity, EntityParseError, FormattedText, trim

RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_CODE_RESERVED = frozenset("`")

# TDLib prints entity types by these names in "Can't find end of X entity" errors.
_BOLD, _ITALIC, _UNDERLINE, _STRIKE, _SPOILER = (
    "Bold",
    "Italic",
    "Underline",
    "Strikethrough",
    "Spoiler",
)
_CODE, _PRE, _PRE_CODE, _TEXT_URL, _EMOJI = "Code", "Pre", "PreCode", "TextUrl", "CustomEmoji"

_API_TYPE = {
    _BOLD: "bold",
    _ITALIC: "italic",
    _UNDERLINE: "underline",
    _STRIKE: "strikethrough",
    _SPOILER: "spoiler",
    _CODE: "code",
    _PRE: "pre",
    _PRE_CODE: "pre",
}


@dataclass(slots=True)
class _Open:
    kind: str
    char_index: int  # index in the source text where the entity started (for byte offsets)
    offset: int  # UTF-16 offset in the result
    out_index: int  # index in the result character list
    argument: str = ""


@dataclass(slots=True)
class _Quote:
    char_index: int
    offset: int
    depth: int  # len(stack) when the quote opened
    expandable: bool


def _reserved_error(ch: str) -> EntityParseError:
    return EntityParseError(
        f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
    )


def _is_escapable(ch: str) -> bool:
    return 0 < ord(ch) <= 126


def parse_markdown_v2(source: str) -> FormattedText:
    """Parse MarkdownV2 into plain text and entities, or raise EntityParseError."""
    text = source
    n = len(text)

    def byte_offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    def at(index: int) -> str:
        return text[index] if index < n else ""

    out: list[str] = []
    u16 = 0
    entities: list[Entity] = []
    stack: list[_Open] = []
    quote: _Quote | None = None

    def emit(ch: str) -> None:
        nonlocal u16
        out.append(ch)
        u16 += 2 if ord(ch) > 0xFFFF else 1

    def close_quote(expandable: bool) -> None:
        nonlocal quote
        assert quote is not None
        if len(stack) > quote.depth:
            top = stack[-1]
            raise EntityParseError(
                f"Can't find end of {top.kind} entity at byte offset {byte_offset(top.char_index)}"
            )
        # the quote does not include the newline that ends it
        end = u16
        if out and out[-1] == "\n":
            end -= 1
        if end > quote.offset:
            kind = "expandable_blockquote" if (expandable or quote.expandable) else "blockquote"
            entities.append(Entity(kind, quote.offset, end - quote.offset))
        quote = None

    i = 0
    while i < n:
        ch = text[i]
        line_start = i == 0 or text[i - 1] == "\n"
        in_code = bool(stack) and stack[-1].kind in (_CODE, _PRE, _PRE_CODE)

        if line_start and not in_code:
            if quote is not None and ch != ">" and not text.startswith("**>", i):
                close_quote(False)
            if ch == ">" or text.startswith("**>", i):
                expandable = ch == "*"
                if quote is None:
                    quote = _Quote(i, u16, len(stack), expandable)
                i += 3 if expandable else 1
                continue

        if ch == "\\" and i + 1 < n and _is_escapable(text[i + 1]):
            emit(text[i + 1])
            i += 2
            continue

        reserved = _CODE_RESERVED if in_code else RESERVED
        if ch not in reserved:
            emit(ch)
            i += 1
            continue

        # "||" closing an expandable quote at the end of a quoted line
        if (
            quote is not None
            and ch == "|"
            and at(i + 1) == "|"
            and at(i + 2) in ("", "\n")
            and not (stack and stack[-1].kind == _SPOILER)
        ):
            close_quote(True)
            i += 2
            continue

        top = stack[-1].kind if stack else None
        is_end = False
        if top == _BOLD:
            is_end = ch == "*"
        elif top == _ITALIC:
            is_end = ch == "_" and at(i + 1) != "_"
        elif top == _CODE:
            is_end = ch == "`"
        elif top in (_PRE, _PRE_CODE):
            is_end = ch == "`" and at(i + 1) == "`" and at(i + 2) == "`"
        elif top in (_TEXT_URL, _EMOJI):
            is_end = ch == "]"
        elif top == _UNDERLINE:
            is_end = ch == "_" and at(i + 1) == "_"
        elif top == _STRIKE:
            is_end = ch == "~"
        elif top == _SPOILER:
            is_end = ch == "|" and at(i + 1) == "|"

        if not is_end:
            start = i
            argument = ""
            if ch == "_":
                if at(i + 1) == "_":
                    kind = _UNDERLINE
                    i += 1
                else:
                    kind = _ITALIC
            elif ch == "*":
                kind = _BOLD
            elif ch == "~":
                kind = _STRIKE
            elif ch == "|":
                if at(i + 1) != "|":
                    raise _reserved_error(ch)
                kind = _SPOILER
                i += 1
            elif ch == "[":
                kind = _TEXT_URL
            elif ch == "`":
                if at(i + 1) == "`" and at(i + 2) == "`":
                    i += 3
                    kind = _PRE
                    lang_end = i
                    while lang_end < n and not text[lang_end].isspace() and text[lang_end] != "`":
                        lang_end += 1
                    if i != lang_end and lang_end < n and text[lang_end] != "`":
                        kind = _PRE_CODE
                        argument = text[i:lang_end]
                        i = lang_end
                    if at(i) in ("\n", "\r"):
                        if at(i + 1) in ("\n", "\r") and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = _CODE
            elif ch == "!":
                if at(i + 1) != "[":
                    raise _reserved_error(ch)
                kind = _EMOJI
                i += 1
            else:
                raise _reserved_error(ch)
            stack.append(_Open(kind, start, u16, len(out), argument))
            i += 1
            continue

        opened = stack.pop()
        kind = opened.kind
        url: str | None = None
        if kind in (_UNDERLINE, _SPOILER):
            i += 1
        elif kind in (_PRE, _PRE_CODE):
            i += 2
        elif kind in (_TEXT_URL, _EMOJI):
            if at(i + 1) != "(":
                url = "".join(out[opened.out_index :])
            else:
                i += 2
                url_begin = i
                chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and _is_escapable(text[i + 1]):
                        chars.append(text[i + 1])
                        i += 2
                        continue
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {byte_offset(url_begin)}"
                    )
                url = "".join(chars)
        i += 1
        length = u16 - opened.offset
        if length == 0:
            continue
        if kind == _TEXT_URL:
            assert url is not None
            if _valid_url(url):
                entities.append(Entity("text_link", opened.offset, length, url=url))
        elif kind == _EMOJI:
            assert url is not None
            prefix = "tg://emoji?id="
            if not url.startswith(prefix) or not url[len(prefix) :].isdigit():
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            entities.append(
                Entity("custom_emoji", opened.offset, length, custom_emoji_id=url[len(prefix) :])
            )
        elif kind == _PRE_CODE:
            entities.append(Entity("pre", opened.offset, length, language=opened.argument))
        else:
            entities.append(Entity(_API_TYPE[kind], opened.offset, length))

    if stack:
        top_open = stack[-1]
        if quote is None or len(stack) > quote.depth:
            raise EntityParseError(
                f"Can't find end of {top_open.kind} entity at byte offset "
                f"{byte_offset(top_open.char_index)}"
            )
    if quote is not None:
        close_quote(False)
    return trim("".join(out), entities)


def _valid_url(url: str) -> bool:
    """A loose version of Telegram's URL check: a scheme or a dotted host, no spaces."""
    if not url or any(c.isspace() for c in url):
        return False
    if url.startswith(("tg://", "http://", "https://", "ftp://", "mailto:")):
        return True
    host = url.split("/", 1)[0]
    return "." in host


def escape_markdown_v2(text: str) -> str:
    """Escape every reserved character (and backslash) so text parses as plain text."""
    return "".join("\\" + c if c in RESERVED or c == "\\" else c for c in text)
