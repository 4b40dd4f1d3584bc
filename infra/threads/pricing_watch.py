"""Alerts for usage charged at a ceiling because its model id has no price row.

Billing never charges a consumed call $0 (:func:`actors.billing.pricing.resolve_model`
prices an unknown id at its family's highest rate), but such a charge means the price table
lags the models in use: each one is counted (``claudegram_unpriced_model_charges_total``)
and logged as an error, here where the charge is produced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from actors.billing.pricing import PricingError, resolve_model, table_at
from events.billing import UsageChargeRequested
from events.usage import ModelId
from infra.threads.metrics import UNPRICED_MODEL_CHARGES

log = logging.getLogger(__name__)


def unpriced_models(charge: UsageChargeRequested) -> list[ModelId]:
    """The model ids of a charge (its own and its tool's model calls) with no price row."""
    models = [charge.model] if charge.model is not None and charge.usage is not None else []
    if charge.tool_quantities is not None:
        models += [call.model for call in charge.tool_quantities.model_calls]
    try:
        table = table_at(charge.occurred_at)
    except PricingError:
        return models  # billing rejects it as unpriced: alert all the same
    return [m for m in models if resolve_model(table, m).unpriced]


def note_unpriced(commands: Iterable[object]) -> None:
    """Alert on every usage charge among ``commands`` priced at a ceiling rate."""
    for charge in commands:
        if not isinstance(charge, UsageChargeRequested):
            continue
        for model in unpriced_models(charge):
            UNPRICED_MODEL_CHARGES.labels(model[:64]).inc()
            log.error(
                "usage charged at the ceiling rate: model %r has no price row",
                model,
                extra={"fields": {"operation_id": charge.operation_id, "model": model}},
            )
