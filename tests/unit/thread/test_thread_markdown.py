"""Claude's Markdown rendered to text + entities (markdown-it-py) and split at Telegram's
limit, checked against the Telegram emulator's entity validation."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from actors.telegram_text import utf16_len
from actors.thread.markdown import render_markdown
from actors.thread.progress import TurnTrace
from actors.thread.split import TELEGRAM_LIMIT, split_plain, split_rendered
from actors.thread.telegram_text import ENTITY_TYPES, Rendered
from devkit.emulators.telegram.entities import Entity as TelegramEntity
from devkit.emulators.telegram.entities import check_entities
from infra.threads.telegram_output import draft_view

MARKDOWN_ALPHABET = st.sampled_from(
    [
        *list("ab c\n*_~`[]()#>-+=|{}.!\\1:"),
        "**", "__", "~~", "```", "```py\n", "\n\n", "😀", "é", "\n- ", "\n  - ", "\n1. ",
        "\n> ", "| a | b |\n|---|---|\n| 1 | 2 |\n", "[x](https://e.org)", "    code\n", "<b>",
    ]
)  # fmt: skip
markdown_texts = st.lists(MARKDOWN_ALPHABET, max_size=80).map("".join)


def assert_valid(rendered: Rendered) -> None:
    """The entities are what Telegram accepts: inside the text (UTF-16), non-empty, known."""
    given_ = [
        TelegramEntity(e.type, e.offset, e.length, e.url, e.language) for e in rendered.entities
    ]
    assert check_entities(rendered.text, given_) == given_
    assert all(e.length > 0 and e.type in ENTITY_TYPES for e in rendered.entities)
    assert list(rendered.entities) == sorted(rendered.entities, key=lambda e: (e.offset, -e.length))


def kinds(markdown: str) -> list[str]:
    return [e.type for e in render_markdown(markdown).entities]


def shown(rendered: Rendered, kind: str) -> list[str]:
    """The text under each entity of ``kind``."""
    out = []
    for e in rendered.entities:
        if e.type == kind:
            lo = len(rendered.text.encode("utf-16-le")[: e.offset * 2].decode("utf-16-le"))
            hi = len(rendered.text.encode("utf-16-le")[: e.end * 2].decode("utf-16-le"))
            out.append(rendered.text[lo:hi])
    return out


@settings(max_examples=400, deadline=None)
@given(markdown_texts)
def test_any_markdown_renders_to_entities_telegram_accepts(text: str) -> None:
    """Whatever Claude writes (half-streamed included), every entity is inside the text and
    the text is trimmed, so Telegram has nothing to refuse."""
    rendered = render_markdown(text)
    assert_valid(rendered)
    assert rendered.text == rendered.text.strip()


@settings(max_examples=300, deadline=None)
@given(markdown_texts, st.integers(min_value=8, max_value=120))
def test_split_parts_join_to_the_text_and_keep_every_entity_inside(text: str, limit: int) -> None:
    """The parts fit the limit, join to exactly the rendered text, and the entities of the
    parts, put back in place, cover exactly what the rendered text's entities covered."""
    rendered = render_markdown(text)
    parts = split_rendered(rendered, limit)
    assert "".join(p.text for p in parts) == rendered.text
    covered: set[tuple[str, int]] = set()
    at = 0
    for part in parts:
        assert part.length <= limit
        assert_valid(part)
        assert_valid(part.strip())
        covered |= {(e.type, at + e.offset + i) for e in part.entities for i in range(e.length)}
        at += part.length
    assert covered == {(e.type, e.offset + i) for e in rendered.entities for i in range(e.length)}


def test_common_markdown_maps_to_telegram_entities() -> None:
    """Bold, italic, strike, code, links and headings become entities, without markers."""
    rendered = render_markdown("# Title\n\n**b** *i* ~~s~~ `c` [link](https://example.org)")
    assert rendered.text == "Title\n\nb i s c link"
    assert [e.type for e in rendered.entities] == [
        "bold", "bold", "italic", "strikethrough", "code", "text_link",
    ]  # fmt: skip
    assert rendered.entities[-1].url == "https://example.org"


def test_nothing_is_escaped() -> None:
    """Characters MarkdownV2 reserved show as written: there is no escaping any more."""
    rendered = render_markdown("1 + 1 = 2. (a) {b} #c! a_b_c |x|")
    assert rendered.text == "1 + 1 = 2. (a) {b} #c! a_b_c |x|"
    assert rendered.entities == ()


def test_half_streamed_drafts_render_predictably() -> None:
    """An unclosed fence is a code block to the end; an unclosed ** or link is literal."""
    draft = render_markdown("Here:\n\n```python\ndef f():\n    return 1")
    assert shown(draft, "pre") == ["def f():\n    return 1"]
    assert draft.entities[-1].language == "python"
    assert render_markdown("Some **bold and [a link](https://e").text == (
        "Some **bold and [a link](https://e"
    )
    assert kinds("Some **bold and [a link](https://e") == []


def test_nested_lists_are_indented_with_bullets_and_numbers() -> None:
    """List items get a bullet or their number; nested ones are indented."""
    rendered = render_markdown("- one\n  - inner\n    - deep\n- two\n\n3. three\n4. four")
    assert rendered.text == "• one\n  ◦ inner\n    ▪ deep\n• two\n\n3. three\n4. four"


def test_tables_are_aligned_monospace_blocks() -> None:
    """A table becomes an aligned code block (Telegram has no tables)."""
    rendered = render_markdown("| name | n |\n|---|---|\n| **a** | 10 |\n| bb | 2 |")
    assert rendered.text == "name | n\n-----+---\na    | 10\nbb   | 2"
    assert kinds("| a |\n|---|\n| 1 |") == ["pre"]


def test_quotes_and_code_blocks() -> None:
    """A quote is one blockquote (a quote in a quote is not a second); code keeps its text."""
    rendered = render_markdown("> said\n> > inner\n\n```\n*not bold*\n```")
    assert [e.type for e in rendered.entities] == ["blockquote", "pre"]
    assert shown(rendered, "pre") == ["*not bold*"]


def test_offsets_count_utf16_units() -> None:
    """An emoji outside the BMP counts two units before a later entity."""
    rendered = render_markdown("😀 **bold**")
    assert rendered.entities[0].offset == 3
    assert shown(rendered, "bold") == ["bold"]


def test_a_code_block_cut_by_a_split_is_closed_and_reopened() -> None:
    """A long code block split in two is a code block in both parts, with its language."""
    code = "\n".join(f"line {n}" for n in range(600))
    parts = split_rendered(render_markdown(f"```py\n{code}\n```"))
    assert len(parts) == 2
    for part in parts:
        assert [(e.type, e.language) for e in part.entities] == [("pre", "py")]
        assert part.length <= TELEGRAM_LIMIT


def test_a_5000_character_answer_splits_in_two_on_a_paragraph() -> None:
    """A long answer splits at a blank line in the second half of the room."""
    paragraph = "word " * 199 + "end."
    parts = split_rendered(render_markdown("\n\n".join([paragraph] * 5)))
    assert len(parts) == 2
    assert parts[0].text.endswith("end.\n\n")
    assert all(p.length <= TELEGRAM_LIMIT for p in parts)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=4, max_value=50))
def test_split_plain_keeps_every_word(text: str, limit: int) -> None:
    """Plain notices split within the limit and keep every non-space character in order."""
    parts = split_plain(text, limit)
    assert all(utf16_len(p) <= limit and p == p.strip() and p for p in parts)
    assert "".join("".join(p.split()) for p in parts) == "".join(text.split())


@settings(max_examples=100, deadline=None)
@given(markdown_texts, st.integers(min_value=0, max_value=5000), st.text(max_size=200))
@example(text="", padding=2010, thinking="0")  # showed only the last "x": a split's remainder
def test_a_draft_shows_the_header_and_the_end_of_the_answer_within_the_limit(
    text: str, padding: int, thinking: str
) -> None:
    """A draft of any answer so far (however long, however half-written) fits Telegram's
    limit, ends with the end of the answer, and its entities are valid."""
    trace = TurnTrace()
    trace.add_thinking(thinking)
    answer = "x " * padding + text
    shown = draft_view(answer, trace.draft_header())
    assert shown.length <= TELEGRAM_LIMIT
    assert_valid(shown)
    rendered = render_markdown(answer)
    assert shown.text.endswith(rendered.text[-20:].strip())
    if rendered.length > TELEGRAM_LIMIT:  # as much of the end as fits, not a split's remainder
        assert shown.length > TELEGRAM_LIMIT // 2
