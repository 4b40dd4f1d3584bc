"""MarkdownV2 conversion and splitting, checked against the Telegram emulator's parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from actors.thread.markdown_v2 import to_markdown_v2, to_plain
from actors.thread.split import TELEGRAM_LIMIT, split_markdown, split_plain, utf16_len
from devkit.emulators.telegram.markdown_v2 import parse_markdown_v2

MARKDOWN_ALPHABET = st.sampled_from(
    [*list("ab c\n*_~`[]()#>-+=|{}.!\\1"), "**", "__", "~~", "```", "```py\n", "\n\n", "😀", "é"]
)
markdown_texts = st.lists(MARKDOWN_ALPHABET, max_size=80).map("".join)


def visible(markdown: str) -> str:
    return parse_markdown_v2(to_markdown_v2(markdown)).text


def entity_types(markdown: str) -> list[str]:
    return [e.type for e in parse_markdown_v2(to_markdown_v2(markdown)).entities]


@settings(max_examples=400, deadline=None)
@given(markdown_texts)
def test_any_markdown_converts_to_parseable_markdown_v2(text: str) -> None:
    """Whatever Claude writes, the MarkdownV2 we send parses (no 'can't parse entities')."""
    parse_markdown_v2(to_markdown_v2(text))


@settings(max_examples=200, deadline=None)
@given(markdown_texts)
def test_visible_text_is_never_longer_than_the_source(text: str) -> None:
    """Conversion only removes characters from what is shown, so splitting the source
    at 4096 keeps every message under Telegram's limit."""
    assert utf16_len(visible(text)) <= utf16_len(text)


def test_common_markdown_maps_to_telegram_entities() -> None:
    """Bold, italic, strike, code, pre with language and links become entities."""
    source = "**b** *i* _j_ ~~s~~ `c` [l](https://e.com)\n```python\nx = 1\n```"
    parsed = parse_markdown_v2(to_markdown_v2(source))
    assert parsed.text.startswith("b i j s c l\n")
    kinds = [e.type for e in parsed.entities]
    assert kinds == ["bold", "italic", "italic", "strikethrough", "code", "text_link", "pre"]
    assert parsed.entities[-1].language == "python"


def test_reserved_characters_are_escaped_as_literal_text() -> None:
    """Dots, dashes, parentheses and stray markers show literally."""
    source = "1+1=2. (ok) a*b snake_case_name #tag! {x} |y| > z"
    assert visible(source) == source


def test_unclosed_markers_in_a_half_streamed_draft_are_literal() -> None:
    """A draft cut mid-bold or mid-code still parses."""
    assert visible("some **bold") == "some **bold"
    assert visible("```python\nprint(1)") == "print(1)"


def test_adjacent_italics_do_not_turn_into_underline() -> None:
    """`_a__b_` would read as underline; adjacent italics are merged."""
    assert entity_types("*a*_b_") == ["italic"]


def test_headings_lists_and_quotes() -> None:
    """Headings become bold, bullets a dot, quotes a blockquote."""
    parsed = parse_markdown_v2(to_markdown_v2("# Title\n- one\n1. two\n> said"))
    assert parsed.text == "Title\n• one\n1. two\nsaid"
    assert [e.type for e in parsed.entities] == ["bold", "blockquote"]


def test_plain_fallback_keeps_the_words_without_markup() -> None:
    """The plain rendering drops markers and shows link targets."""
    assert to_plain("**b** [l](https://e.com) `c`") == "b l (https://e.com) c"


def test_a_5000_character_answer_splits_in_two() -> None:
    """A 5,000-character answer is two messages, each within 4096."""
    text = ("word " * 100 + "\n\n") * 10
    parts = split_markdown(text[:5000])
    assert len(parts) == 2
    assert all(utf16_len(p) <= TELEGRAM_LIMIT for p in parts)


def test_split_prefers_paragraph_boundaries() -> None:
    """The cut falls between paragraphs when one is available in the second half."""
    para = "x" * 1000
    text = "\n\n".join([para] * 5)
    parts = split_markdown(text)
    assert all(p.replace("\n\n", "").replace("x", "") == "" for p in parts)
    assert [len(p.replace("\n\n", "")) // 1000 for p in parts] == [4, 1]


def test_split_code_block_is_closed_and_reopened() -> None:
    """A code block cut in two stays a code block in both messages."""
    text = "intro\n```python\n" + "x = 1\n" * 1200 + "```\nend"
    parts = split_markdown(text)
    assert len(parts) >= 2
    for part in parts:
        parsed = parse_markdown_v2(to_markdown_v2(part))
        assert "pre" in [e.type for e in parsed.entities]
        assert utf16_len(parsed.text) <= TELEGRAM_LIMIT
    assert parts[1].startswith("```python\n")


@settings(max_examples=100, deadline=None)
@given(st.lists(MARKDOWN_ALPHABET, max_size=400).map("".join), st.integers(64, 600))
def test_split_parts_fit_and_parse(text: str, limit: int) -> None:
    """Every part fits the limit and converts to parseable MarkdownV2."""
    for part in split_markdown(text, limit):
        assert utf16_len(part) <= limit
        parse_markdown_v2(to_markdown_v2(part))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="ab \n😀", max_size=600), st.integers(16, 200))
def test_split_plain_keeps_every_word(text: str, limit: int) -> None:
    """Plain splitting loses no non-space character and respects the limit."""
    parts = split_plain(text, limit)
    assert all(utf16_len(p) <= limit for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
