"""Property tests of the ledger fold: random interleavings, repeats, conflicts and crashes."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.billing import commands
from actors.billing.fold_records import SLIM_TYPES, decode_slim
from actors.billing.ledger import (
    CONFLICTING_DUPLICATE,
    BillingState,
    decide,
    evolve,
    fold,
    restore_operation,
)
from actors.billing.payments import InvoicePayload
from actors.billing.snapshots import from_snapshot, to_snapshot
from actors.thread.models import HAIKU, SONNET
from events.billing import OperationRejected, RefundReversalRequested
from events.catalog import BILLING_LEDGER, BillingCommand, LedgerRecord
from events.codec import codec_for
from events.envelope import event_type, schema_version
from events.usage import ToolQuantities, Usage

T0 = datetime(2026, 6, 1, tzinfo=UTC)
USERS = (11, 22, 33)
CHARGES = ("c1", "c2", "c3")


def _at(days: int) -> datetime:
    return T0 + timedelta(days=days)


@st.composite
def billing_command(draw: st.DrawFn) -> BillingCommand:
    uid = draw(st.sampled_from(USERS))
    kind = draw(
        st.sampled_from(
            (
                "starter",
                "usage",
                "tool",
                "pay",
                "refund",
                "reverse",
                "topup",
                "reserve",
                "release",
                "refunded",
            )
        )
    )
    day = draw(st.integers(0, 40))
    if kind == "starter":
        return commands.starter_credit(uid, occurred_at=_at(day))
    if kind == "usage":
        usage = Usage(
            input_tokens=draw(st.integers(0, 200_000)),
            output_tokens=draw(st.integers(0, 50_000)),
            cache_read_input_tokens=draw(st.integers(0, 100_000)),
        )
        return commands.usage_charge(
            uid, model=draw(st.sampled_from((HAIKU, SONNET))), usage=usage, occurred_at=_at(day)
        )
    if kind == "tool":
        quantities = ToolQuantities(
            sandbox_seconds=draw(st.decimals(0, 600, places=2)),
            web_searches=draw(st.integers(0, 3)),
        )
        return commands.usage_charge(
            uid, tool_name="execute_python", tool_quantities=quantities, occurred_at=_at(day)
        )
    if kind == "reserve":
        rid = draw(st.sampled_from(("t1:1", "t1:2", "t2:1")))
        amount = draw(st.decimals(0, 2, places=3))
        return commands.usage_reserve(uid, rid, amount, occurred_at=_at(day))
    if kind == "release":
        rid = draw(st.sampled_from(("t1:1", "t1:2", "t2:1")))
        return commands.reservation_release(uid, rid, occurred_at=_at(day))
    charge = f"{uid}-{draw(st.sampled_from(CHARGES))}"
    if kind == "refunded":
        return commands.refunded_payment_debit(uid, charge, 10, occurred_at=_at(day))
    if kind == "pay":
        stars = draw(st.sampled_from((1, 10, 50, 100, 2500)))
        margin = draw(st.sampled_from((Decimal(0), Decimal("0.1"), Decimal("0.4999"))))
        payload = InvoicePayload(uid, "f" * 32, stars, margin).encode()
        return commands.payment_credit(
            uid, charge, stars, invoice_payload=payload, owner_margin=margin, occurred_at=_at(day)
        )
    if kind == "refund":
        requester = draw(st.sampled_from((uid, uid, 999)))
        return commands.refund_debit(uid, charge, requested_by=requester, occurred_at=_at(day))
    if kind == "reverse":
        refund_op = draw(st.sampled_from(("r1", "r2")))
        return commands.refund_reversal(uid, charge, refund_op, "error", occurred_at=_at(day))
    amount = draw(st.decimals(-5, 5, places=4).filter(lambda d: d != 0))
    return commands.admin_top_up(uid, amount, 1, occurred_at=_at(day))


@st.composite
def deliveries(draw: st.DrawFn) -> list[BillingCommand]:
    """Commands from many producers, each delivered 1-3 times, some with a conflicting twin,
    interleaved in any order."""
    base = draw(st.lists(billing_command(), min_size=1, max_size=40))
    out: list[BillingCommand] = []
    for cmd in base:
        out.extend([cmd] * draw(st.integers(1, 3)))
        twist = _twist(cmd)
        if twist and draw(st.integers(0, 9)) == 0:
            # same operation id, other payload: a producer bug the actor must refuse
            out.append(msgspec.structs.replace(cmd, producer="other", **twist))
    return draw(st.permutations(out))


def _twist(cmd: BillingCommand) -> dict[str, object] | None:
    """A payload change that keeps the operation id (a conflicting duplicate)."""
    for name, value in (
        ("thread_key", "9:9"),
        ("stars", 7),
        ("amount", Decimal(123)),
        ("requested_by_user_id", 4242),
        ("reason", "twisted"),
    ):
        if hasattr(cmd, name):
            return {name: value}
    return None


@dataclass
class Run:
    log: list[LedgerRecord]
    states: dict[str, BillingState]


def run_worker(queue: list[BillingCommand], batch: int, crashes: list[tuple[int, int]]) -> Run:
    """A worker processing ``queue`` in batches: decide, append, commit. At each crash point
    (batch number, entries kept) it dies after appending only a prefix of the batch's
    entries per user and before committing; the restart folds the log and resumes at the
    committed position, so the batch is delivered again."""
    log: list[LedgerRecord] = []
    states: dict[str, BillingState] = defaultdict(BillingState)
    committed = 0
    batch_no = 0
    pending_crashes = dict(crashes)
    while committed < len(queue):
        chunk = queue[committed : committed + batch]
        produced: list[LedgerRecord] = []
        for cmd in chunk:
            for entry in decide(states[cmd.key], cmd, _at(50), privileged=frozenset({1})):
                evolve(states[cmd.key], entry)
                produced.append(entry)
        keep = pending_crashes.pop(batch_no, None)
        batch_no += 1
        if keep is not None:
            kept_per_user: Counter[str] = Counter()
            for entry in produced:  # per-partition order is kept: a prefix per user survives
                if kept_per_user[entry.key] < keep:
                    log.append(entry)
                    kept_per_user[entry.key] += 1
            states = defaultdict(BillingState)
            for entry in log:
                evolve(states[entry.key], entry)
            continue  # died before the commit: the same chunk comes again
        log.extend(produced)
        committed += len(chunk)
    return Run(log, states)


def _snapshot(state: BillingState) -> tuple[object, ...]:
    return (
        state.balance,
        state.operations,
        state.conflicts,
        {k: (p.stars, p.credited, p.paid_at, p.refunded) for k, p in state.payments.items()},
        state.reservations,
        state.starter_granted,
        state.entries,
    )


@settings(max_examples=150, deadline=None)
@given(
    deliveries(),
    st.integers(1, 8),
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3)), max_size=4),
)
def test_ledger_invariants_hold_under_any_interleaving_repeat_and_crash(
    queue: list[BillingCommand], batch: int, crashes: list[tuple[int, int]]
) -> None:
    """balance = sum of entries; replay = live; every operation exactly once, none lost."""
    result = run_worker(queue, batch, crashes)
    by_user: dict[str, list[LedgerRecord]] = defaultdict(list)
    for entry in result.log:
        by_user[entry.key].append(entry)
    for key, state in result.states.items():
        entries = by_user.get(key, [])
        assert state.balance == sum((e.amount for e in entries), Decimal(0))
        assert state.duplicate_entries == 0
        assert state.balance_mismatches == 0
        running = Decimal(0)
        for entry in entries:
            running += entry.amount
            assert entry.balance_after == running
        assert _snapshot(fold(entries)) == _snapshot(state)
    decided = Counter(
        (e.key, e.operation_id)
        for e in result.log
        if not (isinstance(e, OperationRejected) and e.reason == CONFLICTING_DUPLICATE)
    )
    assert all(n == 1 for n in decided.values()), decided.most_common(3)
    assert set(decided) == {(cmd.key, cmd.operation_id) for cmd in queue}
    conflicts = Counter(
        (e.key, e.operation_id, e.command_digest)
        for e in result.log
        if isinstance(e, OperationRejected) and e.reason == CONFLICTING_DUPLICATE
    )
    assert all(n == 1 for n in conflicts.values())


@settings(max_examples=60, deadline=None)
@given(deliveries())
def test_processing_order_of_different_users_does_not_change_their_balances(
    queue: list[BillingCommand],
) -> None:
    """Per-user partitioning: interleaving other users' commands changes nothing for a user."""
    mixed = run_worker(queue, 5, [])
    for uid in USERS:
        alone = run_worker([c for c in queue if c.user_id == uid], 3, [])
        key = str(uid)
        if key in mixed.states:
            assert alone.states[key].balance == mixed.states[key].balance


@settings(max_examples=60, deadline=None)
@given(deliveries())
def test_slim_fold_records_fold_to_the_same_state_as_the_full_records(
    queue: list[BillingCommand],
) -> None:
    """Replay's fast decoder (slim records) gives exactly the live fold's state."""
    result = run_worker(queue, 4, [])
    codec = codec_for(BILLING_LEDGER)
    slim: dict[str, BillingState] = defaultdict(BillingState)
    for entry in result.log:
        decoded = decode_slim(codec.encode(entry)[1])
        assert decoded is not None
        assert type(decoded).__struct_config__.tag == type(entry).__struct_config__.tag
        evolve(slim[entry.key], decoded)
    assert {k: _snapshot(s) for k, s in slim.items()} == {
        k: _snapshot(s) for k, s in result.states.items()
    }


def test_every_ledger_record_type_has_a_slim_twin_of_the_same_version() -> None:
    """A new ledger record type or version must get its slim twin (else replay falls back)."""
    full = {event_type(c): schema_version(c) for c in BILLING_LEDGER.record_types}
    slim = {t.__struct_config__.tag: msgspec.structs.fields(t)[0].default for t in SLIM_TYPES}
    assert slim == full


# --------------------------------------------------------------------------- refunds


@st.composite
def refund_attempts(draw: st.DrawFn) -> list[BillingCommand]:
    """What one writer decides for a user with payments c1, c2: refunds under fresh
    operation ids, refunds made outside the bot, reversals of refunds it saw."""
    out: list[BillingCommand] = []
    for _ in range(draw(st.integers(1, 6))):
        charge = draw(st.sampled_from(("c1", "c2")))
        kind = draw(st.sampled_from(("refund", "refund", "refunded", "reverse")))
        if kind == "refund":
            out.append(commands.refund_debit(UID1, charge, occurred_at=_at(1)))
        elif kind == "refunded":
            op_day = draw(st.integers(1, 3))
            cmd = commands.refunded_payment_debit(UID1, charge, 10, occurred_at=_at(op_day))
            out.append(cmd)
        else:
            out.append(commands.refund_reversal(UID1, charge, "", "error", occurred_at=_at(1)))
    return out


UID1 = USERS[0]


def _decide_alone(base: BillingState, queue: list[BillingCommand]) -> list[LedgerRecord]:
    """One writer deciding ``queue`` on its own copy of the state (a reversal names the
    refund this writer last made of that charge)."""
    state = base.copy()
    made: list[LedgerRecord] = []
    for cmd in queue:
        if isinstance(cmd, RefundReversalRequested):
            payment = state.payments[cmd.telegram_payment_charge_id]
            cmd = commands.refund_reversal(
                UID1,
                cmd.telegram_payment_charge_id,
                payment.refund_operation or "none",
                "error",
                occurred_at=_at(1),
            )
        for entry in decide(state, cmd, _at(2)):
            evolve(state, entry)
            made.append(entry)
    return made


@settings(max_examples=200, deadline=None)
@given(refund_attempts(), refund_attempts(), st.lists(st.booleans(), max_size=24))
def test_a_payment_is_refunded_at_most_once_whatever_interleaves(
    first: list[BillingCommand], second: list[BillingCommand], picks: list[bool]
) -> None:
    """Two writers (a zombie after a rebalance) each decide refunds of the same payments
    under their own operation ids; however their entries interleave in the log, the fold
    debits each payment at most once per credit: balance = credits of unrefunded payments."""
    base = BillingState()
    log: list[LedgerRecord] = []
    for charge, stars in (("c1", 100), ("c2", 50)):
        payload = InvoicePayload(UID1, "f" * 32, stars, Decimal(0)).encode()
        cmd = commands.payment_credit(
            UID1, charge, stars, invoice_payload=payload, owner_margin=Decimal(0), occurred_at=T0
        )
        for entry in decide(base, cmd, T0):
            evolve(base, entry)
            log.append(entry)
    a, b = _decide_alone(base, first), _decide_alone(base, second)
    for pick in picks:
        source = a if (pick and a) or not b else b
        if source:
            log.append(source.pop(0))
    log += a + b
    state = fold(log)
    unrefunded = sum((p.credited for p in state.payments.values() if not p.refunded), Decimal(0))
    assert state.balance == unrefunded
    assert state.balance >= 0
    for payment in state.payments.values():
        assert payment.refunded == (payment.refund_operation is not None)


# --------------------------------------------------------------------------- snapshots


@settings(max_examples=80, deadline=None)
@given(deliveries(), st.integers(0, 60))
def test_a_snapshot_plus_relearnt_ids_plus_the_tail_equals_the_full_fold(
    queue: list[BillingCommand], cut: int
) -> None:
    """Restoring a user from a snapshot at any point of their ledger, re-learning the
    covered entries' operation ids and folding the rest gives the state of the full fold."""
    result = run_worker(queue, 4, [])
    by_user: dict[str, list[LedgerRecord]] = defaultdict(list)
    for entry in result.log:
        by_user[entry.key].append(entry)
    for key, entries in by_user.items():
        at = min(cut, len(entries))
        restored = from_snapshot(to_snapshot(fold(entries[:at])))
        for entry in entries[:at]:
            restore_operation(restored, entry)
        fold(entries[at:], restored)
        full = result.states[key]
        assert _snapshot(restored) == _snapshot(full)
        assert restored.previous_operations == full.previous_operations
        assert (restored.horizon, restored.generation_started) == (
            full.horizon,
            full.generation_started,
        )
