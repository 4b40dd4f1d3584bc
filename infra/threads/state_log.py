"""Thread states in a key-value log as a snapshot plus deltas, so a commit writes what changed.

A thread's value used to be written whole on every commit: twice per turn, up to 900 KB for
a long conversation. Now the thread key holds a *snapshot* (the encoded
:class:`~infra.threads.store_port.StoredThread` plus the sequence number ``seq`` it stands for;
values written before this module decode with ``seq`` 0) and each later commit writes a
*delta* under ``<key>\\x1f<seq>``: the small fields of the state and the outbox whole, and
the history as a patch of the previous one (drop a prefix, keep a run of items, append a
tail). Reading folds the snapshot with the deltas ``seq+1, seq+2, ...`` that exist.

Every ``SNAPSHOT_EVERY`` deltas, or when the deltas since the snapshot outweigh it, the
next commit writes a snapshot instead, and tombstones for the deltas it replaces (those are
ignored by readers anyway: a reader starts after the snapshot's ``seq``). The log being a
compacted changelog, restore (Faust's, or any replay) yields the same key-value map, hence
the same fold.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Final

import msgspec

from actors.thread.state import HistoryItem, ThreadState, bounded
from infra.threads.store_port import OutboxRecord, StoredThread

MAX_VALUE_BYTES: Final = 900_000
MAX_DECODED: Final = 2_048
"""Decoded states kept in memory; idle threads beyond this are decoded again when needed."""
SNAPSHOT_EVERY: Final = 64
SEPARATOR: Final = b"\x1f"


class Snapshot(msgspec.Struct, frozen=True):
    """A whole stored thread (field-compatible with :class:`StoredThread`) and its seq."""

    state: ThreadState
    outbox: tuple[OutboxRecord, ...] = ()
    seq: int = 0


class HistoryPatch(msgspec.Struct, frozen=True):
    """New history = old[drop : drop + keep] + tail."""

    drop: int
    keep: int
    tail: tuple[HistoryItem, ...]


class Delta(msgspec.Struct, frozen=True):
    seq: int
    state: ThreadState  # the state with an empty history
    history: HistoryPatch
    outbox: tuple[OutboxRecord, ...] = ()


_encoder: Final = msgspec.json.Encoder()
_snapshot_decoder: Final = msgspec.json.Decoder(Snapshot)
_delta_decoder: Final = msgspec.json.Decoder(Delta)


def diff_history(old: tuple[HistoryItem, ...], new: tuple[HistoryItem, ...]) -> HistoryPatch:
    """The patch turning ``old`` into ``new`` (items compared by identity, then value)."""
    if not new or not old:
        return HistoryPatch(drop=len(old), keep=0, tail=new)
    first = new[0]
    drop = next((i for i, item in enumerate(old) if item is first), -1)
    if drop < 0:
        drop = next((i for i, item in enumerate(old) if item == first), len(old))
    keep = 0
    limit = min(len(old) - drop, len(new))
    while keep < limit and (new[keep] is old[drop + keep] or new[keep] == old[drop + keep]):
        keep += 1
    return HistoryPatch(drop=drop, keep=keep, tail=new[keep:])


def apply_history(old: tuple[HistoryItem, ...], patch: HistoryPatch) -> tuple[HistoryItem, ...]:
    return old[patch.drop : patch.drop + patch.keep] + patch.tail


def encode_snapshot(stored: StoredThread, seq: int) -> tuple[bytes, tuple[HistoryItem, ...]]:
    """Encode, dropping the oldest history while the value is over the broker's limit; the
    value and the history it holds."""
    state = stored.state
    data = _encoder.encode(Snapshot(state, stored.outbox, seq))
    while len(data) > MAX_VALUE_BYTES and len(state.history) > 1:
        keep = max(1, len(state.history) * 3 // 4)
        state = msgspec.structs.replace(state, history=bounded(state.history[-keep:]))
        data = _encoder.encode(Snapshot(state, stored.outbox, seq))
    return data, state.history


def exact(data: bytes) -> bytes:
    """``data`` in a buffer of its own size: msgspec's output over-allocates by up to 50 %,
    and a stored value lives as long as its thread."""
    return bytes(memoryview(data))


def delta_key(key: bytes, seq: int) -> bytes:
    return key + SEPARATOR + str(seq).encode()


Write = Callable[[bytes, bytes], Awaitable[None]]
"""Write one record (key, value) durably to the log."""

Drop = Callable[[list[bytes]], None]
"""Send tombstones for these keys (no need to wait: readers skip them anyway)."""


class StateLog:
    """Reads and writes thread states as snapshot + deltas over a key-value map (the Faust
    table's local data, restored from its changelog) and a durable ``write``."""

    def __init__(self, data: MutableMapping[bytes, bytes], max_decoded: int = MAX_DECODED) -> None:
        self.data = data
        self.max_decoded = max_decoded
        self.cache: OrderedDict[str, StoredThread] = OrderedDict()  # least recently used first
        self._seq: dict[str, int] = {}
        self._base: dict[str, tuple[int, int, int]] = {}  # key -> (seq, bytes, delta bytes)
        self._written: dict[str, tuple[HistoryItem, ...]] = {}  # history as last written
        self._last: dict[str, tuple[bytes, Snapshot | Delta]] = {}  # last value, with outbox
        self._dirty: set[str] = set()  # cached states not in ``data`` (save_local)

    def forget(self) -> None:
        self.cache.clear()
        self._seq.clear()
        self._base.clear()
        self._written.clear()
        self._last.clear()
        self._dirty.clear()

    def _evict(self, keep: str) -> None:
        """Drop the least recently used decoded states beyond ``max_decoded`` (what is in
        ``data`` is decoded again on the next load; unsaved ones stay)."""
        excess = len(self.cache) - self.max_decoded
        if excess <= 0:
            return
        for key in list(itertools.islice(self.cache, excess + len(self._dirty) + len(self._last))):
            if excess <= 0:
                return
            if key == keep or key in self._dirty or key in self._last:
                continue
            del self.cache[key]
            self._seq.pop(key, None)
            self._base.pop(key, None)
            self._written.pop(key, None)
            excess -= 1

    def load(self, key: str) -> StoredThread | None:
        found = self.cache.get(key)
        if found is not None:
            self.cache.move_to_end(key)
            return found
        raw_key = key.encode()
        raw = self.data.get(raw_key)
        if raw is None:
            return None
        snapshot = _snapshot_decoder.decode(raw)
        state, outbox, seq = snapshot.state, snapshot.outbox, snapshot.seq
        delta_bytes = 0
        while (raw_delta := self.data.get(delta_key(raw_key, seq + 1))) is not None:
            delta = _delta_decoder.decode(raw_delta)
            history = apply_history(state.history, delta.history)
            state = msgspec.structs.replace(delta.state, history=history)
            outbox = delta.outbox
            seq = delta.seq
            delta_bytes += len(raw_delta)
        found = self.cache[key] = StoredThread(state, outbox)
        self._seq[key] = seq
        self._base[key] = (snapshot.seq, len(raw), delta_bytes)
        self._written[key] = state.history
        self._evict(key)
        return found

    async def save(
        self, key: str, stored: StoredThread, write: Write, drop: Drop | None = None
    ) -> None:
        """Write a delta (or a snapshot when due) durably, then update the local map."""
        raw_key = key.encode()
        previous = self.load(key)
        seq = self._seq.get(key, -1) + 1
        base_seq, base_bytes, delta_bytes = self._base.get(key, (0, 0, 0))
        data: bytes | None = None
        if previous is not None and seq - base_seq < SNAPSHOT_EVERY:
            state = stored.state
            patch = diff_history(self._written.get(key, ()), state.history)
            delta = Delta(
                seq,
                msgspec.structs.replace(state, history=()),
                patch,
                stored.outbox,
            )
            data = _encoder.encode(delta)
            if delta_bytes + len(data) > max(base_bytes, 64_000) or len(data) > MAX_VALUE_BYTES:
                data = None  # a snapshot is cheaper to read back than these deltas
        if data is not None:
            delta_raw_key = delta_key(raw_key, seq)
            await write(delta_raw_key, data)
            self.data[delta_raw_key] = exact(data)
            self._base[key] = (base_seq, base_bytes, delta_bytes + len(data))
            self._written[key] = stored.state.history
            self._remember_outbox(key, delta_raw_key, delta, stored, seq)
        else:
            snapshot, history = encode_snapshot(stored, seq)
            await write(raw_key, snapshot)
            self.data[raw_key] = exact(snapshot)
            self._remember_outbox(key, raw_key, None, stored, seq)
            stale = [
                delta_key(raw_key, s)
                for s in range(base_seq + 1, seq)
                if delta_key(raw_key, s) in self.data
            ]
            for stale_key in stale:
                del self.data[stale_key]
            if stale and drop is not None:
                drop(stale)
            self._base[key] = (seq, len(snapshot), 0)
            self._written[key] = history
        self._seq[key] = seq
        self.cache[key] = stored
        self.cache.move_to_end(key)
        self._dirty.discard(key)
        self._evict(key)

    def _remember_outbox(
        self, key: str, raw_key: bytes, delta: Delta | None, stored: StoredThread, seq: int
    ) -> None:
        """Note the value just written if it carries an outbox (see :meth:`save_local`)."""
        if not stored.outbox:
            self._last.pop(key, None)
            return
        self._last[key] = (raw_key, delta if delta is not None else Snapshot(stored.state, (), seq))

    def save_local(self, key: str, stored: StoredThread) -> None:
        """Keep ``stored`` in memory only. When it is the saved state with its outbox
        published (the usual case), the stored value is rewritten locally without the
        outbox: an idle thread must not keep its last records twice (the changelog keeps
        them until the next write, so a crash still republishes them)."""
        current = self.cache.get(key)
        last = self._last.get(key)
        if (
            current is not None
            and last is not None
            and not stored.outbox
            and stored.state is current.state
        ):
            raw_key, value = last
            if raw_key in self.data:
                if isinstance(value, Snapshot):
                    encoded, _ = encode_snapshot(StoredThread(value.state), value.seq)
                else:
                    encoded = _encoder.encode(msgspec.structs.replace(value, outbox=()))
                self.data[raw_key] = exact(encoded)
            del self._last[key]
            self.cache[key] = stored
            return
        self.cache[key] = stored
        self._dirty.add(key)
