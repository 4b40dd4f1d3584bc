"""/clear's pure rules: who may delete topics, which topics, and its button data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from actors.gateway import clear


@given(st.integers(1, 2**53), st.integers(0, 2**31), st.sampled_from(("yes", "no")))
def test_button_data_round_trips_and_fits_telegram(requester: int, scope: int, answer: str) -> None:
    """Every button's data parses back to what it was built from, within Telegram's 64
    bytes."""
    data = clear.callback_data(requester, scope, answer)  # type: ignore[arg-type]
    assert len(data.encode()) <= 64
    assert clear.parse_callback(data) == clear.ClearChoice(requester, scope, answer)  # type: ignore[arg-type]


@given(st.text(max_size=80))
def test_any_other_data_is_not_a_clear_button(data: str) -> None:
    """Malformed or foreign data parses to nothing (never an exception)."""
    choice = clear.parse_callback(data)
    if choice is not None:
        assert data == clear.callback_data(choice.requester_id, choice.scope, choice.answer)


def test_who_may_clear() -> None:
    """A private chat's user, a group's creator and administrators, privileged users."""
    assert clear.may_clear(private=True, member_status=None, privileged=False)
    assert clear.may_clear(private=False, member_status="creator", privileged=False)
    assert clear.may_clear(private=False, member_status="administrator", privileged=False)
    assert clear.may_clear(private=False, member_status="member", privileged=True)
    assert not clear.may_clear(private=False, member_status="member", privileged=False)
    assert not clear.may_clear(private=False, member_status="restricted", privileged=False)


def test_which_topics() -> None:
    """In a topic: that topic; outside any: every known topic, once each, in order."""
    assert clear.scope_of(None) == clear.ALL_TOPICS
    assert clear.targets(clear.scope_of(42), [1, 2]) == [42]
    assert clear.targets(clear.ALL_TOPICS, [9, 3, 9, 0]) == [3, 9]
