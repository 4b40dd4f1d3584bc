"""Thread states as snapshot + deltas: what a restarted reader folds is what was written."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.thread.state import HistoryItem, ThreadState
from infra.threads.state_log import (
    SEPARATOR,
    SNAPSHOT_EVERY,
    StateLog,
    apply_history,
    diff_history,
)
from infra.threads.store_port import OutboxRecord, StoredThread

KEY = "42:0"


def _item(n: int) -> HistoryItem:
    return HistoryItem(role="user" if n % 2 else "assistant", text=f"t{n}", message_ids=(n,))


# one step on the history: append items, drop from the front, edit one in place, clear
_step = st.one_of(
    st.tuples(st.just("append"), st.integers(1, 3)),
    st.tuples(st.just("drop"), st.integers(1, 3)),
    st.tuples(st.just("edit"), st.integers(0, 50)),
    st.tuples(st.just("clear"), st.just(0)),
    st.tuples(st.just("same"), st.just(0)),
)


def _apply(
    history: tuple[HistoryItem, ...], step: tuple[str, int], n: int
) -> tuple[HistoryItem, ...]:
    kind, arg = step
    if kind == "append":
        return history + tuple(_item(n + i) for i in range(arg))
    if kind == "drop":
        return history[arg:]
    if kind == "edit" and history:
        index = arg % len(history)
        edited = msgspec.structs.replace(history[index], text=history[index].text + "!")
        return (*history[:index], edited, *history[index + 1 :])
    if kind == "clear":
        return ()
    return history


async def _no_write(key: bytes, value: bytes) -> None:
    return None


@settings(max_examples=60, deadline=None)
@given(st.lists(_step, min_size=1, max_size=2 * SNAPSHOT_EVERY + 10))
async def test_a_fresh_reader_folds_what_was_written(steps: list[tuple[str, int]]) -> None:
    """After every save, a reader over the same values (a restarted worker) loads the
    same state and outbox, across deltas and snapshots."""
    data: dict[bytes, bytes] = {}
    writer = StateLog(data)
    history: tuple[HistoryItem, ...] = ()
    for n, step in enumerate(steps):
        history = _apply(history, step, n * 10)
        outbox = (OutboxRecord("t", b"k", str(n).encode(), []),) if n % 3 else ()
        stored = StoredThread(ThreadState(key=KEY, turns=n, history=history), outbox)
        await writer.save(KEY, stored, _no_write)
        assert StateLog(data).load(KEY) == stored
        deltas = [k for k in data if k.startswith(KEY.encode() + SEPARATOR)]
        assert len(deltas) < SNAPSHOT_EVERY


@given(
    st.lists(st.integers(0, 30), max_size=20),
    st.lists(_step, max_size=6),
)
def test_history_patch_round_trips(start: list[int], steps: list[tuple[str, int]]) -> None:
    """apply(old, diff(old, new)) == new, whatever happened in between."""
    old = tuple(_item(i) for i in start)
    new = old
    for n, step in enumerate(steps):
        new = _apply(new, step, 100 + n * 10)
    assert apply_history(old, diff_history(old, new)) == new


async def test_a_commit_writes_only_what_changed() -> None:
    """With a long history, a commit's delta is small: the new tail, not the history."""
    written: list[tuple[bytes, bytes]] = []

    async def write(key: bytes, value: bytes) -> None:
        written.append((key, value))

    log = StateLog({})
    history = tuple(_item(i) for i in range(300))
    await log.save(KEY, StoredThread(ThreadState(key=KEY, history=history)), write)
    longer = (*history, _item(1000))
    await log.save(KEY, StoredThread(ThreadState(key=KEY, history=longer)), write)
    assert written[0][0] == KEY.encode()
    assert written[1][0] == KEY.encode() + SEPARATOR + b"1"
    assert len(written[1][1]) < len(written[0][1]) // 20


def test_values_written_before_deltas_still_load() -> None:
    """A value in the old format (a whole StoredThread, no seq) loads as a snapshot."""
    stored = StoredThread(ThreadState(key=KEY, turns=3, history=(_item(1),)))
    data = {KEY.encode(): msgspec.json.encode(stored)}
    assert StateLog(data).load(KEY) == stored


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_step, st.booleans(), st.integers(0, 5)), min_size=1, max_size=90))
async def test_published_outboxes_leave_the_stored_values_and_evicted_states_come_back(
    steps: list[tuple[tuple[str, int], bool, int]],
) -> None:
    """Publishing clears the outbox from the locally stored value (not from the changelog),
    and a state dropped from the decoded cache loads again as it was saved."""
    data: dict[bytes, bytes] = {}
    changelog: dict[bytes, bytes] = {}

    async def write(key: bytes, value: bytes) -> None:
        changelog[key] = value

    writer = StateLog(data, max_decoded=2)
    histories: dict[str, tuple[HistoryItem, ...]] = {}
    expected: dict[str, StoredThread] = {}
    for n, (step, published, thread) in enumerate(steps):
        key = f"{thread}:0"
        histories[key] = _apply(histories.get(key, ()), step, n * 10)
        outbox = (OutboxRecord("t", b"k", str(n).encode(), []),)
        stored = StoredThread(ThreadState(key=key, turns=n, history=histories[key]), outbox)
        await writer.save(key, stored, write)
        assert StateLog(dict(changelog)).load(key) == stored  # a crash republishes it
        if published:
            stored = StoredThread(stored.state)
            writer.save_local(key, stored)
            assert StateLog(dict(data)).load(key) == stored
        expected[key] = stored
        assert len(writer.cache) <= 2 + sum(1 for s in expected.values() if s.outbox)
    for key, stored in expected.items():
        assert writer.load(key) == stored
        assert StateLog(dict(data)).load(key) == stored
