"""The one versioned price table, and pricing of usage quantities into cost lines.

Every charge records the ``version`` of the table it used and one :class:`CostLine` per
priced quantity (quantity x unit price = amount), so an analyst can recompute it from the
ledger alone. A price change is a new :class:`PriceTable` appended to :data:`PRICE_TABLES`
with a later ``effective_from``; old tables are never edited, so old charges stay
reproducible.

Units: tokens are priced per million (``unit="per_million_tokens"``, ``quantity`` in tokens);
Whisper per minute but charged per second of audio; the E2B sandbox per second; images per
image by size class; server-side web search per use. Thinking tokens are part of
``output_tokens`` (the API reports them so) and are billed as output, never twice.

**Long context.** A row may have a long-context tier (:class:`LongContext`): a call whose
prompt (input + cache reads + cache writes) is above ``above_tokens`` is priced entirely at
the tier's rates, as Google prices Gemini 3.1 Pro above 200k prompt tokens; its line items
say so (``<model>/long_context/input_tokens``).

**Cache-write subsidy** (:mod:`actors.billing.subsidy`): with ``cache_writes_charged=False``
every cache-write line is followed by a ``.../subsidy`` line of the same quantity at the
opposite unit price, so the charge records the writes' price and that the bot paid them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from actors.thread.models import (
    GEMINI_FLASH,
    GEMINI_FLASH_LITE,
    GEMINI_PRO,
    HAIKU,
    OPUS,
    SONNET,
    model_family,
)
from events.billing import CostLine
from events.usage import ModelId, ToolQuantities, Usage

MILLION: Final = Decimal(1_000_000)
AMOUNT_QUANTUM: Final = Decimal("1e-10")
"""Line amounts are rounded half-even to 10 decimal places (USD); totals are exact sums."""

PER_MILLION_TOKENS: Final = "per_million_tokens"


class PricingError(ValueError):
    """A quantity has no price (an image size, usage without a model) or no table covers the
    time. (An unknown *model* is priced at a ceiling, see :func:`resolve_model`.)"""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens (``long_context``: the rates above a prompt size, if any)."""

    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal
    long_context: LongContext | None = None


@dataclass(frozen=True, slots=True)
class LongContext:
    """Rates of a call whose prompt has more than ``above_tokens`` tokens."""

    above_tokens: int
    price: ModelPrice


@dataclass(frozen=True, slots=True)
class PriceTable:
    """All prices in force from ``effective_from`` until the next table's."""

    version: str
    effective_from: datetime
    models: Mapping[ModelId, ModelPrice]
    web_search_per_use: Decimal
    web_fetch_per_use: Decimal
    whisper_per_minute: Decimal
    sandbox_per_second: Decimal
    image_per_size: Mapping[str, Decimal] = field(default_factory=dict)


def _d(text: str) -> Decimal:
    return Decimal(text)


_TABLE_2026_05: Final = PriceTable(
    # The reference bot's table as of 2026-05 (reference-bot-tools.md, "Prices per
    # million tokens"; the Gemini rows are Google's list prices it charged). It is the
    # first table, so it applies to everything before the next one. Rows are named by
    # the model registry's ids (actors/thread/models.py, ``ModelSpec.price_id``).
    version="2026-05",
    effective_from=datetime(2000, 1, 1, tzinfo=UTC),
    models=MappingProxyType(
        {
            HAIKU: ModelPrice(_d("1"), _d("5"), _d("1.25"), _d("2"), _d("0.10")),
            SONNET: ModelPrice(_d("3"), _d("15"), _d("3.75"), _d("6"), _d("0.30")),
            OPUS: ModelPrice(_d("5"), _d("25"), _d("6.25"), _d("10"), _d("0.50")),
            # Gemini has no cache-write price (implicit caching; explicit caches are
            # billed as input): a reported write is charged as input, never free.
            GEMINI_FLASH_LITE: ModelPrice(
                _d("0.25"), _d("1.50"), _d("0.25"), _d("0.25"), _d("0.025")
            ),
            GEMINI_FLASH: ModelPrice(_d("0.50"), _d("3"), _d("0.50"), _d("0.50"), _d("0.05")),
            GEMINI_PRO: ModelPrice(_d("2"), _d("12"), _d("2"), _d("2"), _d("0.20")),
        }
    ),
    web_search_per_use=_d("0.01"),
    web_fetch_per_use=_d("0"),  # web fetch costs only the tokens it adds
    whisper_per_minute=_d("0.006"),
    sandbox_per_second=_d("0.00005"),
    image_per_size=MappingProxyType(
        {"512px": _d("0.04482"), "1k": _d("0.0672"), "2k": _d("0.0672"), "4k": _d("0.12")}
    ),
)

PRICE_TABLES: Final[tuple[PriceTable, ...]] = (
    _TABLE_2026_05,
    # 2026-12: the same rows, plus Gemini 3.1 Pro's long-context tier. Google's list
    # price for gemini-3.1-pro-preview is $2 input / $12 output / $0.20 cached input per
    # million tokens up to 200k prompt tokens and $4 / $18 / $0.40 above (the whole call
    # at the higher rates). The 2026-05 table charged every prompt at the base rates and
    # stays as it was, so its charges still recompute.
    replace(
        _TABLE_2026_05,
        version="2026-12",
        effective_from=datetime(2026, 12, 1, tzinfo=UTC),
        models=MappingProxyType(
            {
                **_TABLE_2026_05.models,
                GEMINI_PRO: replace(
                    _TABLE_2026_05.models[GEMINI_PRO],
                    long_context=LongContext(
                        above_tokens=200_000,
                        price=ModelPrice(_d("4"), _d("18"), _d("4"), _d("4"), _d("0.40")),
                    ),
                ),
            }
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Priced:
    """The result of pricing one charge: table version, lines, exact total (USD)."""

    version: str
    lines: tuple[CostLine, ...]
    total: Decimal


def table_at(at: datetime, tables: Sequence[PriceTable] = PRICE_TABLES) -> PriceTable:
    """The table in force at ``at`` (the latest whose ``effective_from`` is not after it)."""
    found: PriceTable | None = None
    for table in tables:
        if table.effective_from <= at and (
            found is None or table.effective_from >= found.effective_from
        ):
            found = table
    if found is None:
        raise PricingError(f"no price table is in force at {at.isoformat()}")
    return found


def table_by_version(version: str, tables: Sequence[PriceTable] = PRICE_TABLES) -> PriceTable:
    """The table named ``version`` (to recompute a recorded charge)."""
    for table in tables:
        if table.version == version:
            return table
    raise PricingError(f"no price table has version {version!r}")


def _line(item: str, quantity: Decimal | int, unit: str, unit_price: Decimal) -> CostLine:
    qty = Decimal(quantity)
    raw = qty * unit_price / MILLION if unit == PER_MILLION_TOKENS else qty * unit_price
    return CostLine(
        item=item,
        quantity=qty,
        unit=unit,
        unit_price=unit_price,
        amount=raw.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN),
    )


def line_amount(line: CostLine) -> Decimal:
    """Recompute a line's amount from its quantity and unit price (what an analyst does)."""
    return _line(line.item, line.quantity, line.unit, line.unit_price).amount


Resolved: TypeAlias = Literal["exact", "alias", "family_ceiling", "ceiling"]
_DATE_SUFFIX: Final = re.compile(r"-(?:\d{8}|latest)$")


@dataclass(frozen=True, slots=True)
class ModelResolution:
    """Which price a model id is charged at.

    ``exact``: the id is a row of the table; ``alias``: the id names a row once its date
    suffix (``-20260101``, ``-latest``) is dropped from both, e.g. a dated snapshot of
    ``claude-sonnet-4-6`` or the undated alias of ``claude-haiku-4-5-20251001``;
    ``family_ceiling``: no row, but the id names a family of the model registry (haiku,
    sonnet, opus, gemini flash-lite, flash, pro): the highest rate of each quantity among
    that family's rows; ``ceiling``: not even a family, the
    highest rate of the whole table. The last two are *unpriced* models: never free, never
    cheaper than any row they could be, and worth an alert (:attr:`unpriced`).
    """

    model: ModelId
    how: Resolved
    price: ModelPrice
    row: ModelId | None = None

    @property
    def unpriced(self) -> bool:
        return self.how in ("family_ceiling", "ceiling")


def _undated(model: ModelId) -> str:
    return _DATE_SUFFIX.sub("", model.strip().lower())


def _ceiling(prices: Iterable[ModelPrice]) -> ModelPrice:
    rows = list(prices)
    tiers = [p.long_context for p in rows if p.long_context is not None]
    long_context = None
    if tiers:  # above the smallest threshold, the highest rate of any row or tier
        every = [replace(p, long_context=None) for p in (*rows, *(t.price for t in tiers))]
        above = min(t.above_tokens for t in tiers)
        long_context = LongContext(above_tokens=above, price=_ceiling(every))
    return ModelPrice(
        input=max(p.input for p in rows),
        output=max(p.output for p in rows),
        cache_write_5m=max(p.cache_write_5m for p in rows),
        cache_write_1h=max(p.cache_write_1h for p in rows),
        cache_read=max(p.cache_read for p in rows),
        long_context=long_context,
    )


def resolve_model(table: PriceTable, model: ModelId) -> ModelResolution:
    """The price a model id is charged at under ``table`` (see :class:`ModelResolution`)."""
    exact = table.models.get(model)
    if exact is not None:
        return ModelResolution(model, "exact", exact, model)
    wanted = _undated(model)
    for row, row_price in table.models.items():
        if _undated(row) == wanted:
            return ModelResolution(model, "alias", row_price, row)
    if not table.models:
        raise PricingError(f"price table {table.version} prices no model")
    family = model_family(model)
    same = [p for row, p in table.models.items() if family and model_family(row) == family]
    if same:
        return ModelResolution(model, "family_ceiling", _ceiling(same))
    return ModelResolution(model, "ceiling", _ceiling(table.models.values()))


def prompt_tokens(usage: Usage) -> int:
    """The tokens of a call's prompt: input, cache reads and cache writes."""
    return (
        usage.input_tokens
        + usage.cache_read_input_tokens
        + usage.cache_creation_5m_input_tokens
        + usage.cache_creation_1h_input_tokens
    )


def _rates(price: ModelPrice, usage: Usage) -> tuple[ModelPrice, str]:
    """The rates a call is charged at, and the item prefix naming a long-context tier."""
    tier = price.long_context
    if tier is not None and prompt_tokens(usage) > tier.above_tokens:
        return tier.price, "long_context/"
    return price, ""


def usage_lines(
    table: PriceTable, model: ModelId, usage: Usage, *, cache_writes_charged: bool = True
) -> list[CostLine]:
    """Cost lines of one model call's usage (zero quantities are left out); an id not in
    the table is priced by :func:`resolve_model`, never at zero; a prompt above a row's
    long-context threshold at that tier's rates; cache writes subsidised (credited back in
    the same charge) when ``cache_writes_charged`` is False."""
    price, tier = _rates(resolve_model(table, model).price, usage)
    lines: list[CostLine] = []
    for item, quantity, unit_price in (
        ("input_tokens", usage.input_tokens, price.input),
        ("output_tokens", usage.output_tokens, price.output),
        ("cache_write_5m_tokens", usage.cache_creation_5m_input_tokens, price.cache_write_5m),
        ("cache_write_1h_tokens", usage.cache_creation_1h_input_tokens, price.cache_write_1h),
        ("cache_read_tokens", usage.cache_read_input_tokens, price.cache_read),
    ):
        if not quantity:
            continue
        name = f"{model}/{tier}{item}"
        lines.append(_line(name, quantity, PER_MILLION_TOKENS, unit_price))
        if item.startswith("cache_write") and not cache_writes_charged:
            lines.append(_line(f"{name}/subsidy", quantity, PER_MILLION_TOKENS, -unit_price))
    if usage.web_search_requests:
        lines.append(
            _line("web_search", usage.web_search_requests, "per_use", table.web_search_per_use)
        )
    if usage.web_fetch_requests:
        lines.append(
            _line("web_fetch", usage.web_fetch_requests, "per_use", table.web_fetch_per_use)
        )
    return lines


def tool_lines(
    table: PriceTable, quantities: ToolQuantities, *, cache_writes_charged: bool = True
) -> list[CostLine]:
    """Cost lines of what one tool call consumed."""
    lines: list[CostLine] = []
    if quantities.whisper_seconds:
        per_second = table.whisper_per_minute / 60
        lines.append(_line("whisper", quantities.whisper_seconds, "per_second", per_second))
    if quantities.sandbox_seconds:
        lines.append(
            _line("e2b_sandbox", quantities.sandbox_seconds, "per_second", table.sandbox_per_second)
        )
    for image in quantities.images:
        unit_price = table.image_per_size.get(image.size_class)
        if unit_price is None:
            raise PricingError(
                f"price table {table.version} has no price for {image.size_class} images"
            )
        if image.count:
            lines.append(
                _line(
                    f"image/{image.model}/{image.size_class}", image.count, "per_image", unit_price
                )
            )
    if quantities.web_searches:
        lines.append(
            _line("web_search", quantities.web_searches, "per_use", table.web_search_per_use)
        )
    if quantities.web_fetches:
        lines.append(_line("web_fetch", quantities.web_fetches, "per_use", table.web_fetch_per_use))
    for call in quantities.model_calls:
        lines.extend(
            usage_lines(table, call.model, call.usage, cache_writes_charged=cache_writes_charged)
        )
    return lines


def total_of(lines: Iterable[CostLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal(0))


def price(
    *,
    at: datetime,
    model: ModelId | None = None,
    usage: Usage | None = None,
    tool_quantities: ToolQuantities | None = None,
    tables: Sequence[PriceTable] = PRICE_TABLES,
    cache_writes_charged: bool = True,
) -> Priced:
    """Price a model call's usage and/or a tool call's quantities at time ``at``
    (``cache_writes_charged=False``: under the cache-write subsidy).

    Raises :class:`PricingError` when a quantity has no price (usage without a model, an
    unknown image size, a time before every table); an unknown model id is charged at
    its family's (or the table's) highest rate, see :func:`resolve_model`.
    """
    table = table_at(at, tables)
    lines: list[CostLine] = []
    if usage is not None and not usage.is_zero():
        if model is None:
            raise PricingError("usage without a model cannot be priced")
        lines.extend(usage_lines(table, model, usage, cache_writes_charged=cache_writes_charged))
    if tool_quantities is not None:
        lines.extend(tool_lines(table, tool_quantities, cache_writes_charged=cache_writes_charged))
    return Priced(table.version, tuple(lines), total_of(lines))
