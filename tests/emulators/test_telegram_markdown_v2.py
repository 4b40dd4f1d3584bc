"""MarkdownV2 parsing rules of the Telegram emulator (pure, no server)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devkit.emulators.telegram.entities import EntityParseError
from devkit.emulators.telegram.formatting import format_text
from devkit.emulators.telegram.markdown_v2 import RESERVED, escape_markdown_v2, parse_markdown_v2


def _types(text: str) -> list[tuple[str, int, int]]:
    return [(e.type, e.offset, e.length) for e in parse_markdown_v2(text).entities]


@pytest.mark.parametrize(
    ("source", "plain", "entities"),
    [
        ("*bold*", "bold", [("bold", 0, 4)]),
        ("_italic_", "italic", [("italic", 0, 6)]),
        ("__under__", "under", [("underline", 0, 5)]),
        ("~strike~", "strike", [("strikethrough", 0, 6)]),
        ("||spoiler||", "spoiler", [("spoiler", 0, 7)]),
        ("`code`", "code", [("code", 0, 4)]),
        ("*bold _italic_*", "bold italic", [("bold", 0, 11), ("italic", 5, 6)]),
        ("a\\.b\\!c", "a.b!c", []),
        ("`a\\`b`", "a`b", [("code", 0, 3)]),
        ("`1.5 + 2`", "1.5 + 2", [("code", 0, 7)]),
        ("x 👍 *y*", "x 👍 y", [("bold", 5, 1)]),
        ("___italic underline_**__", "italic underline", [("underline", 0, 16), ("italic", 0, 16)]),
    ],
)
def test_valid_markup_gives_plain_text_and_entities(
    source: str, plain: str, entities: list[tuple[str, int, int]]
) -> None:
    """Each entity kind parses to Telegram's plain text and UTF-16 offsets."""
    parsed = parse_markdown_v2(source)
    assert parsed.text == plain
    assert sorted(_types(source)) == sorted(entities)


def test_pre_block_with_language_and_links() -> None:
    """```lang blocks become pre with language; [text](url) a text_link with unescaped url."""
    parsed = parse_markdown_v2("```python\nprint(1)\n```")
    assert parsed.text == "print(1)"
    assert parsed.entities[0].type == "pre"
    assert parsed.entities[0].language == "python"
    link = parse_markdown_v2("[site](https://ex.com/a\\)b)")
    assert link.text == "site"
    assert link.entities[0].url == "https://ex.com/a)b"


def test_block_quotes() -> None:
    """'>' at line starts makes a blockquote; '**>' ... '||' an expandable one."""
    quote = parse_markdown_v2(">one\n>two\nafter")
    assert quote.text == "one\ntwo\nafter"
    assert _types(">one\n>two\nafter") == [("blockquote", 0, 7)]
    expandable = parse_markdown_v2("**>one\n>two||")
    assert expandable.text == "one\ntwo"
    assert expandable.entities[0].type == "expandable_blockquote"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Hello.", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("1-2", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("a (b)", "Character '(' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("ok _it", "Can't find end of Italic entity at byte offset 3"),
        ("é *x", "Can't find end of Bold entity at byte offset 3"),
        ("```\nnever closed", "Can't find end of Pre entity at byte offset 0"),
        ("[a](http://x.com", "Can't find end of a URL at byte offset 4"),
        ("a | b", "Character '|' is reserved and must be escaped with the preceding '\\'"),
    ],
)
def test_invalid_markup_raises_telegram_error_text(source: str, message: str) -> None:
    """Unescaped reserved characters and unclosed entities fail with TDLib's wording."""
    with pytest.raises(EntityParseError) as info:
        parse_markdown_v2(source)
    assert str(info.value) == message


def test_surrounding_whitespace_is_trimmed() -> None:
    """Telegram strips leading/trailing whitespace and shifts entities accordingly."""
    parsed = parse_markdown_v2("  *b*  ")
    assert parsed.text == "b"
    assert _types("  *b*  ") == [("bold", 0, 1)]


def test_other_parse_modes() -> None:
    """HTML and legacy Markdown parse too; explicit entities bypass parsing."""
    html = format_text("<b>x</b> &amp; <i>y</i>", "HTML", None)
    assert html.text == "x & y"
    assert [e.type for e in html.entities] == ["bold", "italic"]
    with pytest.raises(EntityParseError, match="Unsupported start tag"):
        format_text("<div>x</div>", "HTML", None)
    legacy = format_text("*b* _i_", "Markdown", None)
    assert legacy.text == "b i"
    explicit = format_text("a.b", None, [{"type": "bold", "offset": 0, "length": 1}])
    assert explicit.text == "a.b"
    assert explicit.entities[0].type == "bold"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=200))
def test_escaped_text_round_trips(text: str) -> None:
    """Any text escaped with escape_markdown_v2 parses back to itself (whitespace-trimmed)."""
    assert parse_markdown_v2(escape_markdown_v2(text)).text == text.strip()


@given(st.text(alphabet=sorted(RESERVED - {"\\"}), min_size=1, max_size=1))
def test_each_reserved_char_alone_is_an_error(ch: str) -> None:
    """Every reserved character is rejected when not escaped (or opens an unclosed entity)."""
    with pytest.raises(EntityParseError):
        parse_markdown_v2(f"x{ch}y")
