"""Read-side ports the actors and the gateway consult; projections implement them.

**One read port for users and balances: the ``users`` read model.** :class:`UserReads` (a
user's balance and preferences) is how the thread worker and the gateway's billing routers
read another actor's state; nothing folds a whole topic to answer it. Two adapters:

* :class:`infra.projector.views.ReadModelViews` (the gateway): keyed reads of the ``users``
  row, Redis first, PostgreSQL behind it. Bounded per read (one key, timeouts); as fresh as
  the projector (it lags the ledger by the projector's lag, tens to hundreds of ms).
* :class:`infra.threads.log_views.LogViews` (the thread worker): the same rows, plus the
  records the projector has not applied yet, tailed from the projector's own positions in
  ``projection_positions``. Bounded at start by the projector's lag, not by the log's size;
  a balance read after a payment sees the ledger entry as soon as the worker's consumer
  fetches it (milliseconds), as before; it also counts the reservations of running calls,
  which no read model holds. Each value carries its log offset, and the newer side wins.

Why the read model and not a compacted per-user state topic: the read model already exists,
is already kept exactly once by the projector and is already the gateway's source; a state
topic would be a second copy of the same fold, with a second writer to keep in step, and a
process would still have to read all of it (every user) to start.

A view may lag the log by a little; decisions that must be exact (the ledger) never depend
on a view: the billing actor decides from its own fold.
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
    """One recent ledger operation as shown by ``/balance`` (worded in the user's language
    by :func:`actors.billing.replies.operation` from ``kind``, ``subject`` and ``source``)."""

    occurred_at: datetime
    kind: str
    """``usage_debited``, ``payment_credited``... (the ledger record tag without ``ledger.``)."""
    amount: Decimal
    balance_after: Decimal
    operation_id: str
    subject: str = ""
    """What it was about, the same in every language: a model or tool, a number of Stars, a
    transaction id, a reason."""
    source: str = ""
    """A usage debit's source (``turn``, ``tool``, ``cancelled_call``); else ''."""
    reference: str = ""
    """The Telegram transaction id of a payment, refund or reversal; else ''."""


@dataclass(slots=True)
class UserPreferences:
    """What a user chose for their conversations: default model, personality, thinking
    level, language (None: the default of each; for the language, their Telegram one)."""

    model: str | None = None
    personality: str | None = None
    thinking: str | None = None
    language: str | None = None


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


class UserReads(BalanceReader, PreferencesReader, Protocol):
    """The read port for other actors' users and balances (see the module doc)."""


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
