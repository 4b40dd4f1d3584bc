"""Deterministic command ids, update dedupe and command arguments."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from actors.gateway.bot_commands import (
    model_callback_data,
    parse_model_callback,
    parse_model_name,
    parse_personality,
)
from actors.gateway.commands import stop_requested, user_message_received
from actors.gateway.dedupe import RecentIds
from actors.gateway.ids import telegram_record_id
from actors.thread.models import HAIKU, OPUS, SONNET
from events.catalog import THREAD_INBOX
from events.codec import codec_for
from events.ids import uuid7_time
from events.messages import TelegramUser, UserMessage

AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_record_id_is_deterministic_and_timestamped() -> None:
    """The same message gives the same id; the id's UUIDv7 time is the message's date."""
    a = telegram_record_id("message", -100, 7, AT)
    assert a == telegram_record_id("message", -100, 7, AT)
    assert a != telegram_record_id("message", -100, 8, AT)
    assert a != telegram_record_id("stop", -100, 7, AT)
    assert uuid7_time(a) == AT


def test_duplicate_message_command_is_identical_but_for_time_of_receipt() -> None:
    """Two gateways seeing the same message write the same id and the same payload."""
    m = UserMessage(
        chat_id=1,
        chat_type="private",
        message_id=3,
        sender=TelegramUser(user_id=1),
        sent_at=AT,
        text="hi",
    )
    one = user_message_received(m, update_id=9, received_at=AT)
    two = user_message_received(m, update_id=9, received_at=datetime.now(UTC))
    assert one.id == two.id
    assert one.key == "1:0"
    codec = codec_for(THREAD_INBOX)
    assert codec.decode(codec.encode_value(one)) == one


def test_stop_command_is_keyed_by_thread() -> None:
    """/stop in a topic addresses that topic's thread."""
    cmd = stop_requested(
        chat_id=-100, message_thread_id=5, user_id=1, message_id=4, sent_at=AT, received_at=AT
    )
    assert cmd.key == "-100:5"


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=300))
def test_recent_ids_reports_repeats_within_capacity(ids: list[int]) -> None:
    """An id seen among the last `capacity` distinct ids is reported as a repeat."""
    recent = RecentIds(capacity=1000)
    seen: set[int] = set()
    for i in ids:
        assert recent.add(i) is (i not in seen)
        seen.add(i)


def test_recent_ids_memory_is_bounded() -> None:
    """Old ids are forgotten once capacity is exceeded."""
    recent = RecentIds(capacity=3)
    for i in range(5):
        recent.add(i)
    assert len(recent) == 3
    assert 0 not in recent
    assert 4 in recent


def test_model_buttons_round_trip() -> None:
    """Each offered model survives the callback data; anything else is refused."""
    for model in (HAIKU, SONNET, OPUS):
        data = model_callback_data(model)
        assert len(data.encode()) <= 64
        assert parse_model_callback(data) == model
    assert parse_model_callback("model:gpt-5") is None
    assert parse_model_callback("pay:10") is None
    assert parse_model_name("opus") == OPUS
    assert parse_model_name("Haiku") == HAIKU
    assert parse_model_name("llama") is None


def test_personality_arguments() -> None:
    """/personality shows, sets, resets, and refuses an over-long prompt."""
    assert parse_personality(None).kind == "show"
    assert parse_personality("  ").kind == "show"
    assert parse_personality("reset").kind == "reset"
    assert parse_personality("You are a pirate.").text == "You are a pirate."
    assert parse_personality("x" * 5000).kind == "too_long"
