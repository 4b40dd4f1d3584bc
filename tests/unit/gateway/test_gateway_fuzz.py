"""Fuzzing the gateway's pure normalisation with generated and malformed Telegram messages:
every input is accepted, refused with a reply, ignored by design, or rejected as a
``TelegramFormatError`` (which the gateway logs and skips); nothing else ever escapes."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.gateway.normalize import Accepted, Ignored, Refused, TopicCreated, normalize
from actors.gateway.telegram import TelegramFormatError

ODD_TEXT = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.just("\x00\u202e\ufeff\U0001f600" * 10),
    st.just("a" * 70_000),  # far over Telegram's 4096
    st.just(""),
    st.just("   \n\t "),
)
JSON_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), ODD_TEXT
)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
MESSAGE_KEYS = [
    "message_id", "date", "chat", "from", "text", "caption", "photo", "document", "voice",
    "audio", "video", "video_note", "animation", "sticker", "poll", "location", "contact",
    "message_thread_id", "is_topic_message", "reply_to_message", "quote", "forward_origin",
    "entities", "media_group_id", "successful_payment", "refunded_payment",
    "forum_topic_created", "new_chat_members", "dice", "story", "venue", "game",
    "some_future_field",
]  # fmt: skip


@st.composite
def plausible_message(draw: st.DrawFn) -> dict[str, Any]:
    """A message that is mostly well formed, with some fields of the wrong type or missing."""
    chat_type = draw(st.sampled_from(["private", "group", "supergroup", "channel", "weird"]))
    message: dict[str, Any] = {
        "message_id": draw(st.integers(1, 2**31)),
        "date": draw(st.integers(0, 2**32)),
        "chat": {"id": draw(st.integers(-(2**52), 2**52)), "type": chat_type},
        "from": {
            "id": draw(st.integers(1, 2**52)),
            "is_bot": draw(st.booleans()),
            "first_name": draw(ODD_TEXT),
        },
    }
    for key in draw(st.lists(st.sampled_from(MESSAGE_KEYS), max_size=6, unique=True)):
        message[key] = draw(JSON_VALUE)
    if draw(st.booleans()):
        message["text"] = draw(ODD_TEXT)
    for key in draw(st.lists(st.sampled_from(list(message)), max_size=2, unique=True)):
        if draw(st.booleans()):
            del message[key]
    return message


def _check(raw: Any) -> None:
    try:
        result = normalize(raw)
    except TelegramFormatError:
        return
    assert isinstance(result, Accepted | Refused | Ignored | TopicCreated)
    if isinstance(result, Refused):
        assert result.notices, "a refusal always carries a reply for the user"


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(plausible_message())
def test_plausible_but_malformed_messages_never_crash_normalisation(raw: dict[str, Any]) -> None:
    """Wrong types, missing fields, odd unicode, huge texts and unknown kinds are handled."""
    _check(raw)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(MESSAGE_KEYS), JSON_VALUE, max_size=8))
def test_arbitrary_json_objects_never_crash_normalisation(raw: dict[str, Any]) -> None:
    """Any JSON object at all is either a message or a format error, never an exception."""
    _check(raw)
