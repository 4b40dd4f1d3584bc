"""Gemini 3.1 Pro above 200k prompt tokens is charged at its long-context rates, from the
2026-12 price table on; the 2026-05 table (and every charge made under it) is unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from actors.billing.pricing import line_amount, price, prompt_tokens, table_by_version
from actors.thread.models import GEMINI_FLASH, GEMINI_PRO, SONNET
from events.usage import Usage

NEW = datetime(2026, 12, 2, tzinfo=UTC)
OLD = datetime(2026, 6, 1, tzinfo=UTC)


def test_pro_above_200k_prompt_tokens_is_priced_at_the_long_context_row() -> None:
    """250k input + 50k cached + 10k output: $4 / $0.40 / $18 per million, not $2 / $0.20 /
    $12; the lines say which tier they are."""
    usage = Usage(input_tokens=250_000, cache_read_input_tokens=50_000, output_tokens=10_000)
    priced = price(at=NEW, model=GEMINI_PRO, usage=usage)
    assert priced.version == "2026-12"
    assert priced.total == Decimal("1.00") + Decimal("0.02") + Decimal("0.18")
    assert all("/long_context/" in line.item for line in priced.lines)
    assert all(line_amount(line) == line.amount for line in priced.lines)


def test_pro_at_exactly_200k_prompt_tokens_stays_on_the_base_row() -> None:
    """The threshold is "above 200k": 200,000 prompt tokens are base-priced."""
    usage = Usage(input_tokens=150_000, cache_read_input_tokens=50_000, output_tokens=1_000)
    priced = price(at=NEW, model=GEMINI_PRO, usage=usage)
    assert priced.total == Decimal("0.30") + Decimal("0.01") + Decimal("0.012")
    assert not any("long_context" in line.item for line in priced.lines)


def test_the_old_table_and_other_models_have_no_long_context_tier() -> None:
    """Usage under the 2026-05 table is priced as it always was; Flash and Sonnet have no
    tier."""
    usage = Usage(input_tokens=300_000, output_tokens=1_000)
    old = price(at=OLD, model=GEMINI_PRO, usage=usage)
    assert (old.version, old.total) == ("2026-05", Decimal("0.612"))
    assert table_by_version("2026-05").models[GEMINI_PRO].long_context is None
    for model in (GEMINI_FLASH, SONNET):
        assert not any(
            "long_context" in line.item for line in price(at=NEW, model=model, usage=usage).lines
        )


@given(
    st.integers(0, 600_000),
    st.integers(0, 600_000),
    st.integers(0, 100_000),
)
def test_a_longer_prompt_never_costs_less_per_token(
    input_tokens: int, cached: int, output: int
) -> None:
    """Long-context charges are never below the base price of the same usage, and the tier
    applies exactly when the prompt is above 200k tokens."""
    usage = Usage(input_tokens=input_tokens, cache_read_input_tokens=cached, output_tokens=output)
    new = price(at=NEW, model=GEMINI_PRO, usage=usage)
    base = price(at=OLD, model=GEMINI_PRO, usage=usage)
    assert new.total >= base.total
    long_lines = any("long_context" in line.item for line in new.lines)
    assert long_lines == (prompt_tokens(usage) > 200_000 and bool(new.lines))
    if not long_lines:
        assert new.total == base.total
