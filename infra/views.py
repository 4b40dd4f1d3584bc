"""Read-side ports the actors and the gateway consult; projections implement them.

A view answers from the read models (Redis first, PostgreSQL behind it). It may lag the log
by a little; decisions that must be exact (the ledger) never depend on a view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from events.catalog import BillingCommand


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One recent ledger operation as shown by ``/balance``."""

    occurred_at: datetime
    kind: str
    amount: Decimal
    balance_after: Decimal
    description: str
    operation_id: str


@dataclass(slots=True)
class UserPreferences:
    """What a user chose for their conversations: default model, personality, thinking
    level (None: the default of each)."""

    model: str | None = None
    personality: str | None = None
    thinking: str | None = None


class PreferencesReader(Protocol):
    """A user's preferences (the thread actor's context for a turn)."""

    async def preferences(self, user_id: int) -> UserPreferences:
        """The user's preferences; defaults for a user nobody has seen."""
        ...


class BalanceReader(Protocol):
    """What a balance check needs (the thread actor's soft check)."""

    async def balance(self, user_id: int) -> Decimal | None:
        """The user's balance in USD, or None for a user the ledger has never seen."""
        ...


class BalanceView(BalanceReader, Protocol):
    """A balance with its history (``/balance``)."""

    async def recent_operations(self, user_id: int, limit: int = 10) -> list[LedgerLine]:
        """The newest ledger operations of a user, newest first."""
        ...


@runtime_checkable
class HoldsNotes(Protocol):
    """A balance reader that also counts reservations this process made before the ledger
    shows them (read-your-writes for the thread worker's own balance checks)."""

    def note(self, command: BillingCommand) -> None: ...
