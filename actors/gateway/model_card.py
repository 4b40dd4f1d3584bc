"""The info card ``/model`` shows for a model: who makes it, its context and answer sizes,
its prices (from the price table row the model registry names) and what it can do."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from actors.billing.pricing import PRICE_TABLES, PriceTable
from actors.thread.models import ModelSpec, model_spec
from events.usage import ModelId

MAKERS: Final = {"anthropic": "Anthropic", "google": "Google"}


def _usd(amount: Decimal) -> str:
    """$3, $0.50, $0.025: no trailing zeros beyond cents."""
    text = f"{amount.normalize():f}"
    if "." in text and len(text.split(".")[1]) < 2:
        text = f"{amount:.2f}"
    return f"${text}"


def _abilities(spec: ModelSpec) -> str:
    can = []
    if spec.supports_thinking:
        can.append("think before answering (/thinking)")
    if spec.tools:
        can.append("use tools (files, cost estimates, a reviewer)")
    if spec.server_tools:
        can.append("search and read the web")
    reads = [kind for kind, ok in (("images", spec.images), ("PDFs", spec.pdfs)) if ok]
    if reads:
        can.append("read " + " and ".join(reads))
    return "; ".join(can)


def _prices(spec: ModelSpec, table: PriceTable) -> str:
    row = table.models.get(spec.price_id)
    if row is None:
        return "Price: not in the price table yet."
    parts = [f"input {_usd(row.input)}", f"output {_usd(row.output)}"]
    if spec.provider == "anthropic":
        parts.append(f"cache write {_usd(row.cache_write_5m)}")
    parts.append(f"cached input {_usd(row.cache_read)}")
    return "Per million tokens: " + ", ".join(parts) + " (thinking counts as output)."


def model_card(model: ModelId, table: PriceTable = PRICE_TABLES[-1]) -> str:
    """The card of ``model`` (prices from ``table``, the latest by default)."""
    spec = model_spec(model)
    maker = MAKERS.get(spec.provider, spec.provider)
    return "\n".join(
        (
            f"{spec.label} by {maker}",
            f"Context: {spec.context_window:,} tokens; answers up to "
            f"{spec.max_output_tokens:,} tokens.",
            _prices(spec, table),
            f"Can: {_abilities(spec)}.",
        )
    )
