"""The cache-write subsidy: what a charge costs with and without it, which changes count,
and that the ledger folds a subsidised charge the same way live and on replay."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from actors.billing import commands
from actors.billing.ledger import BillingState, decide, evolve, fold
from actors.billing.pricing import line_amount, price
from actors.billing.subsidy import NO_SUBSIDY, SubsidySchedule, parse_switch, with_change
from actors.thread.models import GEMINI_FLASH, GEMINI_PRO, HAIKU, OPUS, SONNET
from events.admin import CacheSubsidyChanged
from events.billing import UsageDebited
from events.envelope import new_envelope
from events.keys import GLOBAL_KEY
from events.usage import ModelUsage, ToolQuantities, Usage

T0 = datetime(2026, 12, 5, tzinfo=UTC)
ADMIN = 7
ADMINS = frozenset({ADMIN})
UID = 4242

usages = st.builds(
    Usage,
    input_tokens=st.integers(0, 400_000),
    output_tokens=st.integers(0, 100_000),
    cache_creation_5m_input_tokens=st.integers(0, 300_000),
    cache_creation_1h_input_tokens=st.integers(0, 300_000),
    cache_read_input_tokens=st.integers(0, 300_000),
)
models = st.sampled_from((HAIKU, SONNET, OPUS, GEMINI_FLASH, GEMINI_PRO))


def change(on: bool, at: datetime, admin: int = ADMIN) -> CacheSubsidyChanged:
    return CacheSubsidyChanged(
        **new_envelope(key=GLOBAL_KEY, producer="test", occurred_at=at),
        subsidized=on,
        admin_user_id=admin,
    )


def _cache_write_amount(lines: tuple[object, ...]) -> Decimal:
    return sum(
        (
            line.amount  # type: ignore[attr-defined]
            for line in lines
            if "cache_write" in line.item and not line.item.endswith("/subsidy")  # type: ignore[attr-defined]
        ),
        Decimal(0),
    )


@given(models, usages)
def test_a_subsidised_charge_costs_exactly_its_cache_writes_less(model: str, usage: Usage) -> None:
    """With the subsidy the user pays the same charge minus exactly the cache-write lines'
    amounts; every line, the credit-back lines too, recomputes from quantity x unit price;
    without cache writes the subsidy changes nothing."""
    charged = price(at=T0, model=model, usage=usage)
    subsidised = price(at=T0, model=model, usage=usage, cache_writes_charged=False)
    writes = _cache_write_amount(charged.lines)
    assert subsidised.total == charged.total - writes
    assert subsidised.total >= 0
    assert all(line_amount(line) == line.amount for line in subsidised.lines)
    credits = [line for line in subsidised.lines if line.item.endswith("/subsidy")]
    assert sum((line.amount for line in credits), Decimal(0)) == -writes
    has_writes = usage.cache_creation_5m_input_tokens or usage.cache_creation_1h_input_tokens
    if not has_writes:
        assert subsidised == charged


@given(st.lists(usages, min_size=1, max_size=4))
def test_the_subsidy_covers_the_cache_writes_of_model_calls_inside_a_tool(
    calls: list[Usage],
) -> None:
    """A tool's own model calls (self_critique, analyze_pdf) get the same subsidy."""
    quantities = ToolQuantities(model_calls=tuple(ModelUsage(model=OPUS, usage=u) for u in calls))
    charged = price(at=T0, tool_quantities=quantities)
    subsidised = price(at=T0, tool_quantities=quantities, cache_writes_charged=False)
    assert subsidised.total == charged.total - _cache_write_amount(charged.lines)


def test_known_amounts_with_and_without_the_subsidy() -> None:
    """Sonnet, 1,000 input + 10,000 5-min cache writes + 2,000 output: $0.0705 charged,
    $0.033 subsidised (the writes, $0.0375, are the bot's)."""
    usage = Usage(input_tokens=1_000, output_tokens=2_000, cache_creation_5m_input_tokens=10_000)
    assert price(at=T0, model=SONNET, usage=usage).total == Decimal("0.0705")
    subsidised = price(at=T0, model=SONNET, usage=usage, cache_writes_charged=False)
    assert subsidised.total == Decimal("0.033")


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 1000)), max_size=8), st.randoms())
def test_the_schedule_does_not_depend_on_the_order_changes_are_folded_in(
    raw: list[tuple[bool, int]], rnd: random.Random
) -> None:
    """The setting in force at a moment is the last change at or before it, however the
    changes arrive; before any change it is off."""
    changes = [change(on, T0 + timedelta(seconds=at)) for on, at in raw]
    shuffled = list(changes)
    rnd.shuffle(shuffled)
    first, second = NO_SUBSIDY, NO_SUBSIDY
    for c in changes:
        first = with_change(first, c, ADMINS)
    for c in shuffled:
        second = with_change(second, c, ADMINS)
    distinct_times = len({c.occurred_at for c in changes}) == len(changes)
    for probe in range(-1, 1002, 7):
        at = T0 + timedelta(seconds=probe)
        if distinct_times:
            assert first.subsidized_at(at) == second.subsidized_at(at)
        earlier = [c for c in changes if c.occurred_at <= at]
        if not earlier:
            assert first.subsidized_at(at) is False


def test_a_change_by_an_unprivileged_user_counts_for_nothing() -> None:
    """Only privileged users switch the subsidy; a record by anyone else is ignored."""
    schedule = with_change(NO_SUBSIDY, change(True, T0, admin=666), ADMINS)
    assert schedule == NO_SUBSIDY
    assert schedule.subsidized_at(T0 + timedelta(days=1)) is False


def test_switch_words() -> None:
    """on/off (and yes/no, true/false, 1/0) are read; anything else is refused."""
    assert [parse_switch(w) for w in ("on", " OFF ", "yes", "0", "maybe", "")] == [
        True,
        False,
        True,
        False,
        None,
        None,
    ]


def _commands() -> list[object]:
    usage = Usage(input_tokens=500, output_tokens=800, cache_creation_1h_input_tokens=20_000)
    charges = [
        commands.usage_charge(UID, model=SONNET, usage=usage, occurred_at=T0 + timedelta(minutes=m))
        for m in (0, 10, 20, 30)
    ]
    return [commands.admin_top_up(UID, Decimal(10), ADMIN), *charges]


def _decide_all(schedule: SubsidySchedule, cmds: list[object]) -> tuple[BillingState, list[object]]:
    state = BillingState()
    entries: list[object] = []
    for command in cmds:
        for entry in decide(state, command, T0, privileged=ADMINS, subsidy=schedule):  # type: ignore[arg-type]
            evolve(state, entry)
            entries.append(entry)
    return state, entries


def test_the_ledger_honours_the_subsidy_by_usage_time_and_replays_identically() -> None:
    """Charges before the switch-on and after the switch-off are paid in full, those in
    between without cache writes (and say so); folding the recorded entries again gives the
    live balance, and deciding again from a schedule folded in another order gives the
    same entries."""
    on, off = change(True, T0 + timedelta(minutes=5)), change(False, T0 + timedelta(minutes=25))
    schedule = with_change(with_change(NO_SUBSIDY, on, ADMINS), off, ADMINS)
    recorded = _commands()
    state, entries = _decide_all(schedule, recorded)
    debits = [e for e in entries if isinstance(e, UsageDebited)]
    flags = [d.cache_writes_subsidized for d in debits]
    assert flags == [False, True, True, False]
    full, subsidised = -debits[0].amount, -debits[1].amount
    assert full - subsidised == Decimal("0.12")  # 20,000 1-hour writes at $6 per million
    assert state.balance == Decimal(10) - 2 * full - 2 * subsidised

    replayed = fold(entries)  # type: ignore[arg-type]
    assert replayed.balance == state.balance
    reordered = with_change(with_change(NO_SUBSIDY, off, ADMINS), on, ADMINS)
    _, again = _decide_all(reordered, recorded)
    encode = msgspec.json.encode
    assert [encode(e) for e in again] == [encode(e) for e in entries]
