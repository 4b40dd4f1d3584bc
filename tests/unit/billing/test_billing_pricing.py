from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.billing.pricing import (
    PRICE_TABLES,
    PricingError,
    line_amount,
    model_family,
    price,
    resolve_model,
    table_at,
    table_by_version,
    total_of,
)
from actors.thread.models import HAIKU, OPUS, SONNET
from events.usage import ImageGeneration, ModelUsage, ToolQuantities, Usage

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_sonnet_call_is_priced_per_million_tokens_with_cache_and_thinking_as_output() -> None:
    """Sonnet: input 3, output 15 (thinking included), cache write 3.75/6, read 0.30 per MTok."""
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=200_000,
        thinking_tokens=150_000,
        cache_creation_5m_input_tokens=100_000,
        cache_creation_1h_input_tokens=10_000,
        cache_read_input_tokens=500_000,
    )
    priced = price(at=NOW, model=SONNET, usage=usage)
    assert priced.version == "2026-05"
    amounts = {line.item: line.amount for line in priced.lines}
    assert amounts == {
        f"{SONNET}/input_tokens": Decimal("3"),
        f"{SONNET}/output_tokens": Decimal("3"),
        f"{SONNET}/cache_write_5m_tokens": Decimal("0.375"),
        f"{SONNET}/cache_write_1h_tokens": Decimal("0.06"),
        f"{SONNET}/cache_read_tokens": Decimal("0.15"),
    }
    assert priced.total == Decimal("6.585")


def test_haiku_and_opus_prices_match_the_reference_table() -> None:
    """Haiku 1/5 and Opus 5/25 USD per million input/output tokens."""
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert price(at=NOW, model=HAIKU, usage=usage).total == Decimal(6)
    assert price(at=NOW, model=OPUS, usage=usage).total == Decimal(30)


def test_tools_are_priced_per_minute_second_image_and_search() -> None:
    """Whisper 0.006/min, E2B 0.00005/s, images by size, web search 0.01 per use."""
    quantities = ToolQuantities(
        whisper_seconds=Decimal(90),
        sandbox_seconds=Decimal(100),
        images=(
            ImageGeneration(model="gemini", size_class="512px", count=2),
            ImageGeneration(model="gemini", size_class="4k"),
        ),
        web_searches=3,
        model_calls=(ModelUsage(model=HAIKU, usage=Usage(input_tokens=1000)),),
    )
    priced = price(at=NOW, tool_quantities=quantities)
    amounts = {line.item: line.amount for line in priced.lines}
    assert amounts["whisper"] == Decimal("0.009")
    assert amounts["e2b_sandbox"] == Decimal("0.005")
    assert amounts["image/gemini/512px"] == Decimal("0.08964")
    assert amounts["image/gemini/4k"] == Decimal("0.12")
    assert amounts["web_search"] == Decimal("0.03")
    assert amounts[f"{HAIKU}/input_tokens"] == Decimal("0.001")
    assert priced.total == total_of(priced.lines)


def test_server_side_web_search_in_usage_is_charged_per_use() -> None:
    """A call's web_search_requests add 0.01 each on top of its tokens."""
    priced = price(at=NOW, model=HAIKU, usage=Usage(web_search_requests=2))
    assert [(line.item, line.amount) for line in priced.lines] == [("web_search", Decimal("0.02"))]


def test_usage_without_a_model_is_refused() -> None:
    """Usage that names no model cannot be priced: PricingError, not a guess."""
    with pytest.raises(PricingError):
        price(at=NOW, usage=Usage(input_tokens=1))


def test_dated_snapshots_and_aliases_are_priced_at_their_row() -> None:
    """A dated snapshot or undated alias costs what its price row costs (not $0)."""
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    for reported, row in (
        ("claude-sonnet-4-6-20260101", SONNET),
        ("claude-opus-4-6-latest", OPUS),
        ("claude-haiku-4-5", HAIKU),
        ("claude-haiku-4-5-20990101", HAIKU),
    ):
        resolution = resolve_model(PRICE_TABLES[0], reported)
        assert (resolution.how, resolution.row, resolution.unpriced) == ("alias", row, False)
        assert price(at=NOW, model=reported, usage=usage).total == (
            price(at=NOW, model=row, usage=usage).total
        )


def test_an_unpriced_model_is_charged_at_the_highest_rate_of_its_family_or_table() -> None:
    """A new model is never free: its family's ceiling, or the whole table's without one."""
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    opus5 = resolve_model(PRICE_TABLES[0], "claude-opus-5")
    assert (opus5.how, opus5.unpriced) == ("family_ceiling", True)
    assert price(at=NOW, model="claude-opus-5", usage=usage).total == Decimal("30")
    unknown = resolve_model(PRICE_TABLES[0], "claude-unknown")
    assert (unknown.how, unknown.unpriced) == ("ceiling", True)
    assert price(at=NOW, model="claude-unknown", usage=usage).total == Decimal("30")
    assert model_family("claude-3-5-sonnet-20241022") == "sonnet"


@given(
    st.text(min_size=0, max_size=40),
    st.integers(1, 10**7),
    st.integers(0, 10**6),
)
def test_no_model_id_makes_consumed_tokens_free_or_cheaper_than_its_family(
    model: str, inp: int, out: int
) -> None:
    """Whatever id the API reports, consumed tokens cost at least the family's dearest row
    (the cheapest row when no family is named), never $0."""
    usage = Usage(input_tokens=inp, output_tokens=out)
    total = price(at=NOW, model=model, usage=usage).total
    family = model_family(model)
    rows = [m for m in PRICE_TABLES[0].models if family and model_family(m) == family]
    floor_rows = rows or list(PRICE_TABLES[0].models)
    assert total > 0
    assert total >= min(price(at=NOW, model=m, usage=usage).total for m in floor_rows)


def test_a_later_table_applies_from_its_effective_date_only() -> None:
    """Effective dates: usage before the change keeps the old price, after it the new one."""
    first = PRICE_TABLES[0]
    cheaper = replace(
        first,
        version="2027-01",
        effective_from=datetime(2027, 1, 1, tzinfo=UTC),
        web_search_per_use=Decimal("0.005"),
    )
    tables = (first, cheaper)
    before = price(
        at=datetime(2026, 12, 31, tzinfo=UTC),
        tool_quantities=ToolQuantities(web_searches=1),
        tables=tables,
    )
    after = price(
        at=datetime(2027, 1, 1, tzinfo=UTC),
        tool_quantities=ToolQuantities(web_searches=1),
        tables=tables,
    )
    assert (before.version, before.total) == ("2026-05", Decimal("0.01"))
    assert (after.version, after.total) == ("2027-01", Decimal("0.005"))
    assert table_by_version("2027-01", tables) is cheaper
    with pytest.raises(PricingError):
        table_at(datetime(1999, 1, 1, tzinfo=UTC))


@given(
    st.sampled_from((HAIKU, SONNET, OPUS)),
    st.integers(0, 10**7),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.decimals(min_value=0, max_value=10**5, places=3),
)
def test_every_line_recomputes_from_its_quantity_and_unit_price(
    model: str, inp: int, out: int, cw: int, cr: int, seconds: Decimal
) -> None:
    """An analyst recomputes each recorded line, and the total is the sum of the lines."""
    priced = price(
        at=NOW,
        model=model,
        usage=Usage(
            input_tokens=inp,
            output_tokens=out,
            cache_creation_5m_input_tokens=cw,
            cache_read_input_tokens=cr,
        ),
        tool_quantities=ToolQuantities(sandbox_seconds=seconds, whisper_seconds=seconds),
    )
    for line in priced.lines:
        assert line_amount(line) == line.amount
    assert priced.total == sum((line.amount for line in priced.lines), Decimal(0))
    assert priced.total >= 0
