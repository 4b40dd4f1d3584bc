"""The projections: which topics each consumes, which tables it owns, and its row mapping.

Each table is owned by exactly one projection, so a projection can be rebuilt and swapped in
on its own. A projection maps a decoded record and its source position to row operations
(:mod:`projections.rows`); records it has no handler for map to nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from events import admin as admin_events
from events import billing, catalog, files, payments, thread, tools
from events import users as user_events
from events.catalog import TopicSpec
from projections import admin, ledger, threads, turns, users
from projections import payments as payment_rows
from projections.rows import RowOp, Table
from projections.safe_text import safe_ops
from projections.source import Source
from projections.tables import (
    CHATS,
    FILES,
    INVOICES,
    LEDGER_ENTRIES,
    MARGIN_CHANGES,
    MESSAGE_EDITS,
    MESSAGES,
    MODEL_CALLS,
    PAYMENTS,
    THREADS,
    TOOL_CALLS,
    TURNS,
    USERS,
)

Handler = Callable[[Any, Source], list[RowOp]]


@dataclass(frozen=True)
class Projection:
    """A named read model: its input topics, its tables and a handler per record type."""

    name: str
    topics: tuple[TopicSpec[Any], ...]
    tables: tuple[Table, ...]
    handlers: dict[type[Any], Handler]

    def ops(self, record: Any, src: Source, *, scrub: bool = True) -> list[RowOp]:
        """The row operations for one record (none for a record type it ignores), every text
        made safe for PostgreSQL (:mod:`projections.safe_text`). A caller holding the raw
        record may pass ``scrub=may_need_scrub(raw)`` to skip the scan where it cannot find
        anything (the replay fold does the same)."""
        handler = self.handlers.get(type(record))
        if handler is None:
            return []
        ops = handler(record, src)
        return safe_ops(ops) if scrub else ops

    @property
    def topic_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.topics)


_LEDGER_TYPES: Final = (
    billing.StarterCreditGranted,
    billing.UsageDebited,
    billing.PaymentCredited,
    billing.RefundDebited,
    billing.RefundReversed,
    billing.AdminToppedUp,
    billing.OperationRejected,
    billing.UsageReserved,
    billing.ReservationReleased,
    billing.RefundedPaymentDebited,
)

USERS_PROJECTION: Final = Projection(
    "users",
    (catalog.USERS_EVENTS, catalog.BILLING_LEDGER),
    (USERS,),
    {
        user_events.UserRegistered: users.registered,
        user_events.ProfileUpdated: users.profile_updated,
        user_events.ModelChanged: users.model_changed,
        user_events.PersonalityChanged: users.personality_changed,
        user_events.ThinkingChanged: users.thinking_changed,
        user_events.LanguageChanged: users.language_changed,
        **{t: users.balance_changed for t in _LEDGER_TYPES},
    },
)
LEDGER_PROJECTION: Final = Projection(
    "ledger",
    (catalog.BILLING_LEDGER,),
    (LEDGER_ENTRIES,),
    {t: ledger.entry for t in _LEDGER_TYPES},
)
THREADS_PROJECTION: Final = Projection(
    "threads",
    (catalog.THREAD_EVENTS,),
    (CHATS, THREADS, MESSAGES, MESSAGE_EDITS, TURNS, MODEL_CALLS, TOOL_CALLS, FILES),
    {
        thread.ThreadOpened: threads.opened,
        thread.TopicNamed: threads.topic_named,
        thread.SettingsOverridden: threads.settings_overridden,
        thread.ConversationReset: threads.conversation_reset,
        thread.UserMessageAccepted: threads.message_accepted,
        thread.UserMessageEdited: threads.message_edited,
        thread.UserMessageRejected: threads.message_rejected,
        thread.TurnStarted: turns.turn_started,
        thread.AssistantMessageCompleted: turns.assistant_message,
        thread.TurnCompleted: turns.turn_completed,
        thread.TurnCancelled: turns.turn_cancelled,
        thread.TurnFailed: turns.turn_failed,
        tools.ToolCallRequested: threads.tool_requested,
        tools.ToolCallCompleted: threads.tool_completed,
        tools.ToolCallFailed: threads.tool_failed,
        files.FileReceived: threads.file_received,
        files.FileUploaded: threads.file_uploaded,
        files.FileTranscribed: threads.file_transcribed,
        files.FileGenerated: threads.file_generated,
        files.FileDelivered: threads.file_delivered,
    },
)
PAYMENTS_PROJECTION: Final = Projection(
    "payments",
    (catalog.PAYMENTS_EVENTS,),
    (PAYMENTS, INVOICES),
    {
        payments.InvoiceIssued: payment_rows.invoice_issued,
        payments.PreCheckoutAnswered: payment_rows.pre_checkout_answered,
        payments.PaymentSucceeded: payment_rows.payment_succeeded,
        payments.RefundRequested: payment_rows.refund_requested,
        payments.Refunded: payment_rows.refunded,
        payments.RefundFailed: payment_rows.refund_failed,
    },
)
ADMIN_PROJECTION: Final = Projection(
    "admin",
    (catalog.ADMIN_EVENTS,),
    (MARGIN_CHANGES,),
    {admin_events.MarginChanged: admin.margin_changed},
)

PROJECTIONS: Final[dict[str, Projection]] = {
    p.name: p
    for p in (
        USERS_PROJECTION,
        LEDGER_PROJECTION,
        THREADS_PROJECTION,
        PAYMENTS_PROJECTION,
        ADMIN_PROJECTION,
    )
}
"""Every projection by name, in a stable order."""


def select(names: str | None) -> tuple[Projection, ...]:
    """The projections named (comma-separated), or all of them for ``None``/``"all"``."""
    if names is None or names == "all":
        return tuple(PROJECTIONS.values())
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in PROJECTIONS:
            raise KeyError(f"no projection named {name!r} (known: {', '.join(PROJECTIONS)})")
        chosen.append(PROJECTIONS[name])
    return tuple(chosen)


def input_topics(projections: tuple[Projection, ...]) -> tuple[TopicSpec[Any], ...]:
    """The topics the given projections consume, each once, in catalog order."""
    wanted = {t.name for p in projections for t in p.topics}
    return tuple(t for t in catalog.TOPICS if t.name in wanted)
