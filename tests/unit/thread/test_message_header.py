"""What the model sees about a user message: its author in groups, what it replies to or
quotes, its forward origin, and whether it was edited."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from thread_builders import user_message

from actors.thread.context import history_messages
from actors.thread.decide import Facts, decide, decide_messages
from actors.thread.evolve import evolve_all
from actors.thread.message_header import (
    EDITED_MARK,
    EXCERPT_CHARS,
    author,
    excerpt,
    message_header,
    with_header,
)
from actors.thread.state import initial_state
from events.envelope import new_envelope
from events.messages import ForwardOrigin, ReplyTo, TelegramUser, UserMessage
from events.thread import UserMessageEditReceived

FUNDED = Facts(balance=Decimal("1.00"))


def _message(**changes: object) -> UserMessage:
    base = user_message("hi", chat_type="supergroup").message
    fields = {f: getattr(base, f) for f in base.__struct_fields__}
    fields.update(changes)
    return UserMessage(**fields)  # type: ignore[arg-type]


def test_group_messages_name_their_author() -> None:
    """In a group the header names the sender with @username; in private it says nothing."""
    sender = TelegramUser(user_id=5, first_name="Ada", last_name="L", username="ada")
    m = _message(sender=sender)
    assert message_header(m, "supergroup") == "[from Ada L (@ada)]"
    assert message_header(m, "group") == "[from Ada L (@ada)]"
    assert message_header(m, "private") == ""
    assert author(TelegramUser(user_id=9)) == "user 9"


def test_replies_quotes_and_forwards_are_described() -> None:
    """A reply shows the replied text, a quote the quoted part, a forward its origin."""
    reply = ReplyTo(message_id=3, from_bot=True, text="the bot's answer")
    assert message_header(_message(reply_to=reply), "private") == (
        "[replying to your message «the bot's answer»]"
    )
    quoted = ReplyTo(message_id=3, text="long text here", quote="text here")
    assert "quoting «text here»" in message_header(_message(reply_to=quoted), "private")
    origin = ForwardOrigin(kind="channel", date=datetime.now(UTC), chat_title="News")
    header = message_header(_message(forward_origin=origin), "supergroup")
    assert header == "[from Ada; forwarded from News]"


@given(st.text(max_size=1000))
def test_excerpts_are_one_bounded_line(text: str) -> None:
    """An excerpt never exceeds its limit and has no line breaks."""
    cut = excerpt(text)
    assert len(cut) <= EXCERPT_CHARS
    assert "\n" not in cut


@given(st.text(max_size=50), st.text(max_size=30), st.booleans())
def test_with_header_keeps_the_text(text: str, header: str, edited: bool) -> None:
    """The text the model sees ends with the user's text whatever the header."""
    shown = with_header(text, header, edited)
    if text.strip():
        assert shown.endswith(text)
    assert (EDITED_MARK in shown) or not edited


def test_group_history_shows_author_and_edit_to_the_model() -> None:
    """Through decide and the fold: the model's message carries the author, then the edit mark."""
    cmd = user_message("typo", chat_type="supergroup")
    state = initial_state(cmd.key)
    state = evolve_all(state, decide_messages(state, [cmd], FUNDED).events)
    assert history_messages(state.history, {})[0]["content"][-1]["text"] == "[from Ada]\ntypo"
    edit = UserMessageEditReceived(
        **new_envelope(key=state.key, producer="gateway"),
        message=user_message("fixed", chat_type="supergroup").message,
        edited_at=datetime.now(UTC),
    )
    state = evolve_all(state, decide(state, edit, FUNDED).events)
    shown = history_messages(state.history, {})[0]["content"][-1]["text"]
    assert shown == "[from Ada] [edited]\nfixed"
