"""The info card ``/model`` shows for a model: who makes it, its context and answer sizes,
its prices (from the price table row the model registry names) and what it can do.

Numbers and prices read the same in every language (``200,000``, ``$0.50``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from actors.billing.pricing import PRICE_TABLES, PriceTable
from actors.texts import Language, say
from actors.thread.models import ModelSpec, model_spec
from events.usage import ModelId

MAKERS: Final = {"anthropic": "Anthropic", "google": "Google"}


def _usd(amount: Decimal) -> str:
    """$3, $0.50, $0.025: no trailing zeros beyond cents."""
    text = f"{amount.normalize():f}"
    if "." in text and len(text.split(".")[1]) < 2:
        text = f"{amount:.2f}"
    return f"${text}"


def _abilities(language: Language, spec: ModelSpec) -> str:
    can = []
    if spec.supports_thinking:
        can.append("model_card.thinking")
    if spec.tools:
        can.append("model_card.tools")
    if spec.server_tools:
        can.append("model_card.web")
    if spec.images and spec.pdfs:
        can.append("model_card.reads_both")
    elif spec.images or spec.pdfs:
        can.append("model_card.reads_images" if spec.images else "model_card.reads_pdfs")
    return "; ".join(say(language, key) for key in can)


def _prices(language: Language, spec: ModelSpec, table: PriceTable) -> str:
    row = table.models.get(spec.price_id)
    if row is None:
        return say(language, "model_card.no_price")
    parts = [("model_card.input", row.input), ("model_card.output", row.output)]
    if spec.provider == "anthropic":
        parts.append(("model_card.cache_write", row.cache_write_5m))
    parts.append(("model_card.cached_input", row.cache_read))
    shown = ", ".join(say(language, key, price=_usd(price)) for key, price in parts)
    return say(language, "model_card.prices", parts=shown)


def model_card(language: Language, model: ModelId, table: PriceTable = PRICE_TABLES[-1]) -> str:
    """The card of ``model`` in ``language`` (prices from ``table``, the latest by default)."""
    spec = model_spec(model)
    maker = MAKERS.get(spec.provider, spec.provider)
    return "\n".join(
        (
            say(language, "model_card.title", label=spec.label, maker=maker),
            say(
                language,
                "model_card.sizes",
                context=f"{spec.context_window:,}",
                max_output=f"{spec.max_output_tokens:,}",
            ),
            _prices(language, spec, table),
            say(language, "model_card.can", abilities=_abilities(language, spec)),
        )
    )
