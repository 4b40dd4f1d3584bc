"""The per-user ledger: state as a fold of entries, and the decision for each command.

The state is in :mod:`actors.billing.ledger_state`, the fold in
:mod:`actors.billing.ledger_fold`; this module decides.

``decide(state, command, now)`` is pure: it returns the ledger records the command causes
(none for a repeated operation). ``evolve(state, entry)`` folds one entry into the state.
The billing worker runs both live; replay runs ``evolve`` alone over the ledger topic, and
because the live state is itself nothing but that fold, replay reproduces it exactly.

Idempotency, by ``operation_id`` (chosen by the command's producer):

* an operation already decided (applied *or* rejected) with the same payload digest is a
  no-op: ``decide`` returns ``[]``;
* the same operation id with another digest is answered once with
  ``ledger.operation_rejected`` (``conflicting_duplicate``), naming both digests; the
  original entry stands;
* an entry whose operation is already in the state (only possible when two workers decided
  the same command, e.g. a zombie after a rebalance) is skipped by the fold and counted in
  :attr:`BillingState.duplicate_entries`, so a balance never counts an operation twice.

The balance is therefore the sum of the amounts of the entries the fold applied, which is
every entry except such duplicates; ``balance_after`` on each entry is checked against the
fold and disagreements are counted in :attr:`BillingState.balance_mismatches` (always 0
when one writer decides per user).

For throughput, ``evolve`` updates the state object in place and returns it (a fold over
millions of entries cannot copy a dict per entry); ``decide`` never mutates its input.
"""

from __future__ import annotations

from datetime import datetime

from actors.billing import ledger_entries as entries
from actors.billing.ledger_fold import Foldable, evolve, fold, restore_operation
from actors.billing.ledger_state import (
    CONFLICTING_DUPLICATE,
    EXPIRABLE_COMMANDS,
    NOT_PRIVILEGED,
    OPERATION_EXPIRED,
    OPERATION_RETENTION,
    BillingState,
    Entry,
)
from actors.billing.pricing import PRICE_TABLES, PriceTable
from actors.billing.subsidy import NO_SUBSIDY, SubsidySchedule
from events.billing import (
    AdminTopUpRequested,
    PaymentCreditRequested,
    RefundDebitRequested,
    RefundedPaymentDebitRequested,
    RefundReversalRequested,
    ReservationReleaseRequested,
    StarterCreditRequested,
    UsageChargeRequested,
    UsageReserveRequested,
)
from events.catalog import BillingCommand
from events.envelope import payload_digest

# --------------------------------------------------------------------------- decide


__all__ = [  # the state and the fold live in ledger_state / ledger_fold; named here too
    "CONFLICTING_DUPLICATE",
    "OPERATION_RETENTION",
    "BillingState",
    "Foldable",
    "decide",
    "evolve",
    "fold",
    "restore_operation",
]


def decide(
    state: BillingState,
    command: BillingCommand,
    now: datetime,
    *,
    tables: tuple[PriceTable, ...] = PRICE_TABLES,
    privileged: frozenset[int] = frozenset(),
    subsidy: SubsidySchedule = NO_SUBSIDY,
) -> list[Entry]:
    """The ledger records ``command`` causes in ``state`` at ``now`` (``[]``: a repeat).

    ``subsidy``: the cache-write subsidy's schedule (:mod:`actors.billing.subsidy`); a usage
    charge is priced under the setting in force at its ``occurred_at``.

    ``privileged``: the user ids allowed admin operations (``PRIVILEGED_USER_IDS``); an
    admin top-up naming any other id is refused (``not_privileged``), whoever wrote it to
    the commands topic. Empty (the default): every admin operation is refused.

    Time rules use the command's own ``occurred_at`` (when the user acted or the usage
    happened), so the answer does not depend on how late the command is processed; ``now``
    only stamps the entries.
    """
    digest = payload_digest(command)
    op = command.operation_id
    known = state.digest_of(op)
    if known is not None:
        if known == digest or (op, digest) in state.conflicts:
            return []
        return [
            entries.rejected(
                state,
                command,
                digest,
                now,
                CONFLICTING_DUPLICATE,
                f"operation {op} was already decided with digest {known}; "
                f"this command has digest {digest}",
                label=f"conflict:{digest}",
            )
        ]
    horizon = state.horizon
    if (
        horizon is not None
        and command.occurred_at < horizon
        and isinstance(command, EXPIRABLE_COMMANDS)
    ):
        detail = (
            f"operation {op} occurred at {command.occurred_at:%Y-%m-%d %H:%M:%S}, before "
            f"{horizon:%Y-%m-%d %H:%M:%S}: older than the {OPERATION_RETENTION.days}-day "
            "window in which operation ids are remembered, so it cannot be told from a repeat"
        )
        return [entries.rejected(state, command, digest, now, OPERATION_EXPIRED, detail)]
    if isinstance(command, UsageChargeRequested):
        return [entries.usage(state, command, digest, now, tables, subsidy)]
    if isinstance(command, UsageReserveRequested):
        return [entries.reserve(state, command, digest, now)]
    if isinstance(command, ReservationReleaseRequested):
        return [entries.release(state, command, digest, now)]
    if isinstance(command, RefundedPaymentDebitRequested):
        return [entries.refunded_payment(state, command, digest, now)]
    if isinstance(command, StarterCreditRequested):
        return [entries.starter(state, command, digest, now)]
    if isinstance(command, PaymentCreditRequested):
        return [entries.payment(state, command, digest, now)]
    if isinstance(command, RefundDebitRequested):
        return [entries.refund(state, command, digest, now)]
    if isinstance(command, RefundReversalRequested):
        return [entries.reversal(state, command, digest, now)]
    if isinstance(command, AdminTopUpRequested):
        if command.admin_user_id not in privileged:
            detail = f"user {command.admin_user_id} is not a privileged user"
            return [entries.rejected(state, command, digest, now, NOT_PRIVILEGED, detail)]
        return [entries.top_up(state, command, digest, now)]
    raise TypeError(f"not a billing command: {type(command).__name__}")
