"""The /announce grammar: recipients, text and its formatting, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.broadcast import policy
from actors.broadcast.announce_args import AnnounceRefused, parse_announce, utf16_len
from events.broadcast import TextEntity


def test_text_to_everyone() -> None:
    """Without to: the announcement goes to every known user, the text kept as written."""
    got = parse_announce("/announce Hello,\n  world 🌍 ")
    assert got.recipients is None
    assert got.text == "Hello,\n  world 🌍 "


def test_listed_recipients() -> None:
    """to:ID,ID lists the recipients (duplicates once, in order); a text may start with
    a number."""
    got = parse_announce("/announce@my_bot to:42,7,42 2026 is here")
    assert got.recipients == (42, 7)
    assert got.text == "2026 is here"
    assert parse_announce("/announce 123,456 hi").recipients is None


@pytest.mark.parametrize(
    "text",
    ["/announce", "/announce   ", "/announce to:1,2", "/announce to:1,2   ", "/announce to: hi",
     "/announce to:1,,2 hi", "/announce to:abc hi", "/announce to:-5 hi"],
)  # fmt: skip
def test_refusals(text: str) -> None:
    """No text, or a recipient list that is not numeric ids, is refused with the usage."""
    with pytest.raises(AnnounceRefused):
        parse_announce(text)


def test_too_long_and_too_many() -> None:
    """Texts over Telegram's 4096 and lists over the cap are refused."""
    with pytest.raises(AnnounceRefused) as long:
        parse_announce("/announce " + "x" * 4097)
    assert "4096" in long.value.text("en")
    ids = ",".join(str(i) for i in range(1, policy.MAX_LISTED + 2))
    with pytest.raises(AnnounceRefused) as many:
        parse_announce(f"/announce to:{ids} hi")
    assert str(policy.MAX_LISTED) in many.value.text("ru")


def test_entities_move_with_the_text() -> None:
    """Formatting inside the text keeps its place (UTF-16 offsets after an emoji in the
    prefix); the command's own entity is dropped."""
    text = "/announce to:5 🎉 *bold* end"
    body_at = utf16_len("/announce to:5 ")
    bold_at = utf16_len("/announce to:5 🎉 ")
    entities = [TextEntity(type="bot_command", offset=0, length=9),
                TextEntity(type="bold", offset=bold_at, length=6)]  # fmt: skip
    got = parse_announce(text, entities)
    assert got.text == "🎉 *bold* end"
    assert got.entities == (TextEntity(type="bold", offset=bold_at - body_at, length=6),)


@given(
    prefix_ids=st.lists(st.integers(1, 10**12), max_size=5),
    body=st.text(min_size=1, max_size=50).filter(lambda b: not b[0].isspace()),
    spans=st.lists(st.tuples(st.integers(0, 120), st.integers(1, 60)), max_size=6),
)
def test_entities_stay_inside_the_text(
    prefix_ids: list[int], body: str, spans: list[tuple[int, int]]
) -> None:
    """Whatever the entities, the kept ones lie inside the announced text."""
    head = "/announce " + (f"to:{','.join(map(str, prefix_ids))} " if prefix_ids else "")
    entities = [TextEntity(type="italic", offset=o, length=n) for o, n in spans]
    try:
        got = parse_announce(head + body, entities)
    except AnnounceRefused:
        return
    size = utf16_len(got.text)
    assert all(e.offset >= 0 and e.length > 0 and e.offset + e.length <= size for e in got.entities)
