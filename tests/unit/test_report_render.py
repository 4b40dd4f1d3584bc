"""The analysts' report reads well at small amounts: ticks, ids, tokens, money, periods."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from infra.reports.queries import cache_read_share
from infra.reports.render import bar_chart, cell_text, nice_ticks, period_text, tick_label


def test_cents_sized_values_get_distinct_tick_labels() -> None:
    """Costs of a few cents give ticks like 0.000, 0.005, 0.010, never 0.00 three times."""
    ticks = nice_ticks(0.0, 0.0118)
    step = ticks[1] - ticks[0]
    labels = [tick_label(t, step) for t in ticks]
    assert len(set(labels)) == len(labels)
    assert labels[0] == "0.000"
    assert ticks[-1] >= 0.0118
    svg = bar_chart(["2026-11-01"], [("cost", "#d00", [0.0118])])
    assert svg.count(">0.00<") <= 1


@given(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
)
def test_ticks_cover_the_data_and_zero_with_at_most_a_dozen_distinct_labels(
    a: float, b: float
) -> None:
    """Whatever the values, the ticks span them and zero, in round, distinct steps."""
    low, high = min(a, b), max(a, b)
    ticks = nice_ticks(low, high)
    assert ticks[0] <= min(low, 0.0) + 1e-9 * max(1.0, abs(low))
    assert ticks[-1] >= max(high, 0.0) - 1e-9 * max(1.0, abs(high))
    assert 2 <= len(ticks) <= 12
    step = ticks[1] - ticks[0]
    labels = [tick_label(t, step) for t in ticks]
    assert len(set(labels)) == len(labels)


def test_cells_show_ids_verbatim_tokens_whole_and_money_as_money() -> None:
    """A user id is 5301 not 5,301; tokens 700 not 700.0000; $0.01176 shows as 0.0117."""
    assert cell_text("user_id", 5301) == "5301"
    assert cell_text("input_tokens", Decimal("700.0000")) == "700"
    assert cell_text("output_tokens", 1234567) == "1,234,567"
    assert cell_text("cost_usd", Decimal("0.0117600000")) == "0.0117"
    assert cell_text("cost_usd", Decimal("1234.5")) == "1,234.50"
    assert cell_text("cache_read_share", 0.8734) == "87.3 %"


def test_the_period_is_readable() -> None:
    """No microseconds and no offsets in the report's period."""
    since = datetime(2026, 11, 1, tzinfo=UTC)
    until = datetime(2026, 12, 1, 13, 5, 7, 123456, tzinfo=UTC)
    assert period_text(since, until) == "2026-11-01 00:00 to 2026-12-01 13:05 UTC"


def test_cache_read_share_of_prompt_tokens() -> None:
    """Cache reads over all prompt tokens (uncached + read + written); zero without any."""
    assert cache_read_share(100, 800, 100) == 0.8
    assert cache_read_share(0, 0, 0) == 0.0
