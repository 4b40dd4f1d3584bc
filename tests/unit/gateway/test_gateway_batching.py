"""Batching: split pastes and albums within the window become one turn; nothing is lost."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.gateway.batching import BatchConfig, Batcher, Part, merge
from events.messages import Attachment, ReplyTo, TelegramUser, UserMessage

CONFIG = BatchConfig(window=0.2, max_hold=2.0, max_parts=20, split_hint=3500)
SENT = datetime(2026, 1, 1, tzinfo=UTC)


def msg(
    message_id: int,
    *,
    text: str = "hi",
    chat_id: int = 1,
    user_id: int = 1,
    thread: int | None = None,
    album: str | None = None,
    files: int = 0,
) -> UserMessage:
    return UserMessage(
        chat_id=chat_id,
        chat_type="private" if chat_id > 0 else "supergroup",
        message_thread_id=thread,
        message_id=message_id,
        sender=TelegramUser(user_id=user_id, first_name="U"),
        sent_at=SENT,
        text=text,
        attachments=tuple(
            Attachment(kind="photo", file_id=f"f{message_id}-{i}", file_unique_id=f"u{i}")
            for i in range(files)
        ),
        media_group_id=album,
    )


def part(message: UserMessage, at: float) -> Part:
    return Part(message=message, update_id=message.message_id, arrived_at=at)


LONG = "x" * 4000


def test_ordinary_message_is_not_held() -> None:
    """A short text is sent at once, as a batch of one: the window adds no latency to it."""
    b = Batcher(CONFIG)
    (batch,) = b.offer(part(msg(1), 0.0))
    assert [p.message.message_id for p in batch.parts] == [1]
    assert b.next_deadline() is None


def test_split_paste_becomes_one_turn() -> None:
    """Two long parts and a short tail within the window become one message, text joined."""
    b = Batcher(CONFIG)
    assert b.offer(part(msg(1, text=LONG), 0.0)) == []
    assert b.offer(part(msg(2, text=LONG), 0.05)) == []
    (batch,) = b.offer(part(msg(3, text="tail"), 0.09))
    merged = batch.merged()
    assert merged.message_id == 1
    assert merged.merged_message_ids == (2, 3)
    assert merged.text == f"{LONG}\n{LONG}\ntail"
    assert b.next_deadline() is None


def test_album_closes_when_window_passes() -> None:
    """An album's items wait for the window after the last item, then leave as one message."""
    b = Batcher(CONFIG)
    assert b.offer(part(msg(1, text="look", album="g", files=1), 0.0)) == []
    assert b.offer(part(msg(2, text="", album="g", files=1), 0.03)) == []
    assert b.offer(part(msg(3, text="", album="g", files=1), 0.06)) == []
    assert b.next_deadline() == 0.06 + 0.2
    assert b.due(0.25) == []
    (batch,) = b.due(0.26)
    merged = batch.merged()
    assert merged.text == "look"
    assert [a.file_id for a in merged.attachments] == ["f1-0", "f2-0", "f3-0"]
    assert merged.media_group_id == "g"


def test_part_after_window_starts_new_batch() -> None:
    """A late part closes the earlier batch first, then opens its own."""
    b = Batcher(CONFIG)
    b.offer(part(msg(1, album="g", files=1), 0.0))
    out = b.offer(part(msg(2, album="h", files=1), 0.5))
    assert [[p.message.message_id for p in x.parts] for x in out] == [[1]]
    assert b.open_keys == [("1:0", 1)]


def test_other_users_and_threads_do_not_join() -> None:
    """Batches are per user and per thread."""
    b = Batcher(CONFIG)
    b.offer(part(msg(1, text=LONG, chat_id=-5, user_id=1), 0.0))
    (other_user,) = b.offer(part(msg(2, text="hi", chat_id=-5, user_id=2), 0.01))
    (other_thread,) = b.offer(part(msg(3, text="hi", chat_id=-5, user_id=1, thread=9), 0.02))
    assert other_user.parts[0].message.message_id == 2
    assert other_thread.parts[0].message.message_id == 3
    assert b.pending_parts == 1


def test_flush_thread_closes_now() -> None:
    """A command for the thread (e.g. /stop) first sends what is waiting in it."""
    b = Batcher(CONFIG)
    b.offer(part(msg(1, text=LONG), 0.0))
    (batch,) = b.flush_thread("1:0")
    assert batch.parts[0].message.message_id == 1
    assert b.flush_thread("1:0") == []


def test_max_hold_bounds_a_stream_of_parts() -> None:
    """A never-ending stream of parts is cut at max_hold."""
    b = Batcher(BatchConfig(window=0.2, max_hold=0.5))
    out = []
    for i in range(10):
        out += b.offer(part(msg(i + 1, text=LONG), i * 0.1))
    assert out
    assert all(x.parts[-1].arrived_at - x.parts[0].arrived_at <= 0.5 for x in out)


def test_an_album_the_gateway_gets_to_late_is_still_one_message() -> None:
    """Three album items that arrived together (one getUpdates answer, stamp 0.0) but were
    offered 0.5 s apart each (a slow gateway): one message, closed a window after the last
    offer; max_hold runs from the first offer, not from the arrival."""
    b = Batcher(CONFIG)
    items = [msg(i, text="", album="g", files=1) for i in (1, 2, 3)]
    for i, item in enumerate(items):
        assert b.offer(part(item, 0.0), now=3.0 + 0.5 * i) == []
    assert not b.held_out(("1:0", 1), 4.9)
    assert b.held_out(("1:0", 1), 5.0)
    assert b.due(4.1) == []
    (batch,) = b.due(4.2)
    assert [p.message.message_id for p in batch.parts] == [1, 2, 3]


def test_parts_of_two_poll_answers_join_by_their_offers() -> None:
    """The second half of a split paste came in the next getUpdates answer, stamped 0.35 s
    after the first (the poll's own interval), and was offered 0.1 s after it: it joins."""
    b = Batcher(CONFIG)
    assert b.offer(part(msg(1, text=LONG), 0.0), now=0.3) == []
    (batch,) = b.offer(part(msg(2, text="tail"), 0.35), now=0.4)
    assert [p.message.message_id for p in batch.parts] == [1, 2]


def test_messages_sent_far_apart_never_join() -> None:
    """A backlog read at once (every update stamped alike) does not merge parts the user
    sent a minute apart: Telegram's send times decide."""
    b = Batcher(CONFIG)
    first = msg(1, text=LONG)
    later = msgspec.structs.replace(msg(2, text=LONG), sent_at=SENT + timedelta(minutes=1))
    assert b.offer(part(first, 0.0), now=0.0) == []
    (closed,) = b.offer(part(later, 0.0), now=0.01)
    assert [p.message.message_id for p in closed.parts] == [1]
    assert b.pending_parts == 1


def test_merge_keeps_first_reply_and_orders_by_id() -> None:
    """Merging orders parts by message id and keeps the first reply target."""
    a = msg(2, text="second")
    reply = ReplyTo(message_id=1)
    b = msgspec.structs.replace(msg(1, text="first"), reply_to=reply)
    merged = merge([a, b])
    assert merged.text == "first\nsecond"
    assert merged.reply_to == reply
    assert merged.message_id == 1
    assert merged.merged_message_ids == (2,)


# ------------------------------------------------------------------------ properties

KINDS = st.sampled_from(["short", "long", "album"])
STEP = st.tuples(
    st.floats(min_value=0.0, max_value=0.4, allow_nan=False),  # time since previous step
    st.one_of(st.just("tick"), KINDS),
    st.integers(min_value=0, max_value=2),  # which user
)


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, max_size=60))
def test_every_message_leaves_exactly_once_in_order(steps: list[tuple[float, str, int]]) -> None:
    """Whatever the timing, each message is sent exactly once, per-user order is kept, no
    batch mixes users, spans a gap over the window, exceeds max_parts or outlives max_hold,
    and a short message never waits when nothing is open for its user."""
    config = BatchConfig(window=0.2, max_hold=1.0, max_parts=4, split_hint=3500)
    b = Batcher(config)
    now = 0.0
    sent: list[tuple[int, list[Part]]] = []
    offered: dict[int, list[int]] = {0: [], 1: [], 2: []}
    next_id = 1
    for dt, kind, user in steps:
        now += dt
        if kind == "tick":
            sent += [(0, list(x.parts)) for x in b.due(now)]
            continue
        m = msg(
            next_id,
            user_id=user + 1,
            text=LONG if kind == "long" else "s",
            album=f"g{user}" if kind == "album" else None,
            files=1 if kind == "album" else 0,
        )
        had_open = ("1:0", user + 1) in b.open_keys
        out = b.offer(part(m, now))
        if kind == "short" and not had_open:
            assert out
            assert out[-1].parts == (part(m, now),)
        sent += [(0, list(x.parts)) for x in out]
        offered[user].append(next_id)
        next_id += 1
    sent += [(0, list(x.parts)) for x in b.flush_all()]
    batches = [parts for _, parts in sent]
    flat = [p.message.message_id for parts in batches for p in parts]
    assert sorted(flat) == list(range(1, next_id))
    for user, ids in offered.items():
        got = [
            p.message.message_id
            for parts in batches
            for p in parts
            if p.message.sender.user_id == user + 1
        ]
        assert got == ids
    for parts in batches:
        assert len({p.message.sender.user_id for p in parts}) == 1
        assert len(parts) <= config.max_parts
        assert parts[-1].arrived_at - parts[0].arrived_at <= config.max_hold + 1e-9
        for before, after in itertools.pairwise(parts):
            assert after.arrived_at - before.arrived_at <= config.window + 1e-9
    assert b.pending_parts == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=0.3, allow_nan=False), min_size=1, max_size=30))
def test_due_never_closes_a_batch_early(gaps: list[float]) -> None:
    """A batch is closed by the timer only once the window has passed since its last part."""
    b = Batcher(CONFIG)
    now = 0.0
    last_part_at: float | None = None
    for i, gap in enumerate(gaps):
        now += gap
        for batch in b.due(now):
            assert now - batch.parts[-1].arrived_at >= CONFIG.window - 1e-9 or (
                now - batch.parts[0].arrived_at >= CONFIG.max_hold - 1e-9
            )
        b.offer(part(msg(i + 1, album="g", files=1), now))
        last_part_at = now
    assert last_part_at is not None
    deadline = b.next_deadline()
    assert deadline is not None
    assert deadline <= last_part_at + CONFIG.window + 1e-9
