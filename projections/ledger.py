"""The ``ledger`` projection: every ledger entry as one append-only row, keyed by event id."""

from __future__ import annotations

from typing import Any

from events import billing
from projections.rows import Insert, RowOp
from projections.source import Source, to_json
from projections.tables import LEDGER_ENTRIES

_PREFIX = "ledger."


def entry_kind(e: billing.LedgerEntry) -> str:
    """``usage_debited``, ``payment_credited``... (the record tag without ``ledger.``)."""
    tag = type(e).__struct_config__.tag
    assert isinstance(tag, str)
    return tag.removeprefix(_PREFIX)


def entry(e: billing.LedgerEntry, src: Source) -> list[RowOp]:
    row: dict[str, Any] = {
        "event_id": e.id,
        "user_id": e.user_id,
        "kind": entry_kind(e),
        "operation_id": e.operation_id,
        "amount": e.amount,
        "balance_after": e.balance_after,
        "occurred_at": e.occurred_at,
        "command_id": e.command_id,
        "command_digest": e.command_digest,
        "kafka_partition": src.partition,
        "kafka_offset": src.offset,
    }
    if isinstance(e, billing.UsageDebited):
        row.update(
            source=e.source,
            source_event_id=e.source_event_id,
            thread_key=e.thread_key,
            turn_id=e.turn_id,
            model=e.model,
            tool_name=e.tool_name,
            price_version=e.price_version,
            usage=None if e.usage is None else to_json(e.usage),
            tool_quantities=None if e.tool_quantities is None else to_json(e.tool_quantities),
            lines=to_json(e.lines),
        )
    elif isinstance(e, billing.PaymentCredited):
        row.update(
            telegram_payment_charge_id=e.telegram_payment_charge_id,
            stars=e.stars,
            usd_per_star=e.usd_per_star,
            withdrawal_fee=e.withdrawal_fee,
            topics_fee=e.topics_fee,
            owner_margin=e.owner_margin,
        )
    elif isinstance(e, billing.RefundDebited | billing.RefundedPaymentDebited):
        row.update(telegram_payment_charge_id=e.telegram_payment_charge_id, stars=e.stars)
    elif isinstance(e, billing.RefundReversed):
        row["telegram_payment_charge_id"] = e.telegram_payment_charge_id
    elif isinstance(e, billing.AdminToppedUp):
        row.update(admin_user_id=e.admin_user_id, reason=e.reason)
    elif isinstance(e, billing.OperationRejected):
        row.update(command_type=e.command_type, reason=e.reason, detail=e.detail)
    return [Insert(LEDGER_ENTRIES.name, row)]
