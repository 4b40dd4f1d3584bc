"""Reservations for running model calls: the estimate to hold, and holds seen from the log.

A thread turn reserves an estimate of each model call's cost before making it (see
:mod:`events.billing` for the ledger side). The estimate errs high: the input is counted at
one token per three UTF-8 bytes of the request's text (CJK and emoji included), a file block
as :data:`FILE_BLOCK_TOKENS`, and the whole ``max_tokens`` as output, at the model's price.

:class:`Holds` is what a reader of ``bot.billing.ledger`` that is not the billing actor keeps
(the thread worker's balance view): the open reservations per user, so that its balance check
uses ``balance - held`` like the ledger does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from actors.billing import policy
from actors.billing.pricing import PRICE_TABLES, PriceTable, PricingError, price
from actors.thread.models import OPUS
from events.billing import (
    LedgerEntry,
    ReservationReleased,
    ReservationReleaseRequested,
    UsageChargeRequested,
    UsageDebited,
    UsageReserved,
    UsageReserveRequested,
)
from events.envelope import Envelope
from events.usage import ModelId, Usage

BYTES_PER_TOKEN: Final = 3
FILE_BLOCK_TOKENS: Final = 3000
"""An image or document block, counted whole (a page or image is ~1.5k tokens)."""
MAX_INPUT_TOKENS: Final = 1_000_000
ZERO: Final = Decimal(0)


def request_input_tokens(request: Mapping[str, Any]) -> int:
    """A high estimate of the input tokens of a Messages API request (``system`` and
    ``messages``), without a tokenizer."""
    total = _tokens(request.get("system")) + _tokens(request.get("messages"))
    return min(total, MAX_INPUT_TOKENS)


def _tokens(value: Any) -> int:
    if isinstance(value, str):
        return -(-len(value.encode()) // BYTES_PER_TOKEN)
    if isinstance(value, Mapping):
        if value.get("type") in ("image", "document"):
            return FILE_BLOCK_TOKENS
        return sum(_tokens(v) for k, v in value.items() if k != "cache_control")
    if isinstance(value, list | tuple):
        return sum(_tokens(v) for v in value)
    return 0


def estimate_call(
    model: ModelId,
    input_tokens: int,
    max_tokens: int,
    at: datetime,
    tables: tuple[PriceTable, ...] = PRICE_TABLES,
) -> Decimal:
    """USD to reserve for one call: all input uncached, all ``max_tokens`` as output.

    A model without a price is estimated at the Opus price (the dearest): a reservation
    never comes out at $0 for a call that will cost something."""
    usage = Usage(input_tokens=max(0, input_tokens), output_tokens=max(0, max_tokens))
    for candidate in (model, OPUS):
        try:
            return price(at=at, model=candidate, usage=usage, tables=tables).total
        except PricingError:
            continue
    return Decimal("1")


@dataclass(slots=True)
class Holds:
    """Open reservations per user, folded from ledger entries (any order of arrival)."""

    open: dict[int, dict[str, tuple[Decimal, datetime]]] = field(default_factory=dict)

    def apply(self, entry: LedgerEntry) -> None:
        if isinstance(entry, UsageReserved):
            self.open.setdefault(entry.user_id, {})[entry.reservation_id] = (
                entry.reserved,
                entry.expires_at,
            )
        elif isinstance(entry, ReservationReleased | UsageDebited):
            rid = entry.reservation_id
            held = self.open.get(entry.user_id)
            if rid is not None and held is not None:
                held.pop(rid, None)
                if not held:
                    del self.open[entry.user_id]

    def note(self, command: Envelope) -> None:
        """A reservation, or a charge or release ending one, that its writer published:
        counted before the ledger has it (the ledger's own entry confirms it)."""
        if isinstance(command, UsageReserveRequested):
            problem = policy.reservation_problem(command.amount)
            if problem is None:
                expires = command.occurred_at + policy.RESERVATION_TTL
                self.open.setdefault(command.user_id, {})[command.reservation_id] = (
                    command.amount,
                    expires,
                )
        elif isinstance(command, ReservationReleaseRequested | UsageChargeRequested):
            if command.reservation_id is None:
                return
            found = self.open.get(command.user_id)
            if found is not None:
                found.pop(command.reservation_id, None)
                if not found:
                    del self.open[command.user_id]

    def held(self, user_id: int, at: datetime) -> Decimal:
        """What ``user_id``'s open reservations hold at ``at``; expired ones are dropped."""
        held = self.open.get(user_id)
        if not held:
            return ZERO
        expired = [rid for rid, (_, expires) in held.items() if expires <= at]
        for rid in expired:
            del held[rid]
        if not held:
            del self.open[user_id]
        return sum((amount for amount, _ in held.values()), ZERO)
