"""The topic catalog: every topic of the system, its key, its value union and its configs.

Names are a public interface and never change. Every topic has a dead-letter twin
``<name>.dlq`` that receives, unchanged, the records its consumers could not decode.
``docs/topics.md`` is the human-readable version of this module.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeAlias, TypeVar

from events import admin, billing, broadcast, files, payments, thread, tools, users
from events.envelope import Envelope, event_type
from events.keys import KeyKind

E = TypeVar("E")

DEFAULT_PARTITIONS: Final = 12
INFINITE_RETENTION_MS: Final = -1
DEAD_LETTER_SUFFIX: Final = ".dlq"


@dataclass(frozen=True)
class TopicSpec(Generic[E]):
    """One topic: name, key kind, the union of record types its values hold, configs."""

    name: str
    key_kind: KeyKind
    value_type: Any
    description: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    partitions: int = DEFAULT_PARTITIONS
    retention_ms: int = INFINITE_RETENTION_MS
    cleanup_policy: str = "delete"
    dead_letter_of: str | None = None

    @property
    def record_types(self) -> tuple[type[Envelope], ...]:
        """The record classes this topic carries (empty for a dead-letter topic)."""
        if self.dead_letter_of is not None:
            return ()
        args = typing.get_args(self.value_type)
        return tuple(args) if args else (self.value_type,)

    @property
    def dead_letter_name(self) -> str:
        return self.name + DEAD_LETTER_SUFFIX

    def configs(self) -> dict[str, str]:
        """Topic-level Kafka configs to create and verify."""
        return {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": self.cleanup_policy,
        }

    def dead_letter(self) -> TopicSpec[bytes]:
        """The dead-letter twin: same key and partitions, raw records, infinite retention."""
        return TopicSpec[bytes](
            name=self.dead_letter_name,
            key_kind=self.key_kind,
            value_type=bytes,
            description=f"Records of {self.name} that could not be decoded, unchanged, "
            "with dlq-* headers naming the reason and the source position.",
            producers=self.consumers,
            consumers=("ops",),
            partitions=self.partitions,
            retention_ms=self.retention_ms,
            cleanup_policy=self.cleanup_policy,
            dead_letter_of=self.name,
        )


ThreadInboxCommand: TypeAlias = (
    thread.UserMessageReceived
    | thread.UserMessageEditReceived
    | thread.StopRequested
    | thread.NewConversationRequested
    | thread.SettingsOverrideRequested
    | thread.ForumTopicCreatedReceived
)
ThreadEvent: TypeAlias = (
    thread.ThreadOpened
    | thread.TopicNamed
    | thread.SettingsOverridden
    | thread.ConversationReset
    | thread.UserMessageAccepted
    | thread.UserMessageEdited
    | thread.UserMessageRejected
    | thread.TurnStarted
    | thread.AssistantMessageCompleted
    | thread.TurnCompleted
    | thread.TurnCancelled
    | thread.TurnFailed
    | tools.ToolCallRequested
    | tools.ToolCallCompleted
    | tools.ToolCallFailed
    | files.FileReceived
    | files.FileUploaded
    | files.FileTranscribed
    | files.FileGenerated
    | files.FileDelivered
)
UserCommand: TypeAlias = (
    users.RegistrationRequested
    | users.ModelChangeRequested
    | users.PersonalityChangeRequested
    | users.ThinkingChangeRequested
    | users.LanguageChangeRequested
)
UserEvent: TypeAlias = (
    users.UserRegistered
    | users.ProfileUpdated
    | users.ModelChanged
    | users.PersonalityChanged
    | users.ThinkingChanged
    | users.LanguageChanged
)
BillingCommand: TypeAlias = (
    billing.StarterCreditRequested
    | billing.UsageChargeRequested
    | billing.PaymentCreditRequested
    | billing.RefundDebitRequested
    | billing.RefundReversalRequested
    | billing.AdminTopUpRequested
    | billing.UsageReserveRequested
    | billing.ReservationReleaseRequested
    | billing.RefundedPaymentDebitRequested
)
LedgerRecord: TypeAlias = (
    billing.StarterCreditGranted
    | billing.UsageDebited
    | billing.PaymentCredited
    | billing.RefundDebited
    | billing.RefundReversed
    | billing.AdminToppedUp
    | billing.OperationRejected
    | billing.UsageReserved
    | billing.ReservationReleased
    | billing.RefundedPaymentDebited
)
BillingSnapshot: TypeAlias = billing.UserStateSnapshot | billing.SnapshotRound
PaymentEvent: TypeAlias = (
    payments.InvoiceIssued
    | payments.PreCheckoutAnswered
    | payments.PaymentSucceeded
    | payments.RefundRequested
    | payments.Refunded
    | payments.RefundFailed
)
AdminEvent: TypeAlias = (
    admin.MarginChanged
    | admin.AnnouncementRequested
    | admin.AnnouncementConfirmed
    | admin.AnnouncementCancelled
    | admin.AnnouncementStopRequested
    | admin.CacheSubsidyChanged
)
BroadcastEvent: TypeAlias = (
    broadcast.RecipientsListed
    | broadcast.BroadcastStarted
    | broadcast.DeliveryAttempted
    | broadcast.DeliveryDeferred
    | broadcast.DeliveryRecorded
    | broadcast.BroadcastFinished
)

THREAD_INBOX: Final = TopicSpec[ThreadInboxCommand](
    name="bot.thread.inbox",
    key_kind="thread",
    value_type=ThreadInboxCommand,
    description="Commands to thread actors: user messages and edits, /stop, new "
    "conversation, per-thread settings, forum topic creation.",
    producers=("gateway",),
    consumers=("thread-actor",),
)
THREAD_EVENTS: Final = TopicSpec[ThreadEvent](
    name="bot.thread.events",
    key_kind="thread",
    value_type=ThreadEvent,
    description="What thread actors decided and did: accepted messages, turns with usage, "
    "tool calls, files, topic names.",
    producers=("thread-actor",),
    consumers=("thread-actor", "projections", "analytics"),
)
USERS_COMMANDS: Final = TopicSpec[UserCommand](
    name="bot.users.commands",
    key_kind="user",
    value_type=UserCommand,
    description="Commands to the users actor: registration on first contact, /model, personality.",
    producers=("gateway",),
    consumers=("users-actor",),
)
USERS_EVENTS: Final = TopicSpec[UserEvent](
    name="bot.users.events",
    key_kind="user",
    value_type=UserEvent,
    description="User registered, profile updated, default model and personality changed.",
    producers=("users-actor",),
    consumers=("thread-actor", "projections"),
)
BILLING_COMMANDS: Final = TopicSpec[BillingCommand](
    name="bot.billing.commands",
    key_kind="user",
    value_type=BillingCommand,
    description="Commands to the billing actor, each with a producer-chosen operation id: "
    "starter credit, usage charge, payment credit, refund debit and reversal, admin top-up, "
    "usage reservation and release, debit of a payment refunded outside the bot.",
    producers=("users-actor", "thread-actor", "payments", "gateway"),
    consumers=("billing-actor",),
)
BILLING_LEDGER: Final = TopicSpec[LedgerRecord](
    name="bot.billing.ledger",
    key_kind="user",
    value_type=LedgerRecord,
    description="Append-only ledger: signed USD amounts with the balance after; a balance "
    "is the fold of its user's entries (reservations for running calls are amount-0 entries "
    "that lower the available balance until settled, released or expired).",
    producers=("billing-actor",),
    consumers=("billing-actor", "payments", "projections", "analytics"),
)
BILLING_SNAPSHOTS: Final = TopicSpec[BillingSnapshot](
    name="bot.billing.snapshots",
    key_kind="user",
    value_type=BillingSnapshot,
    description="Compacted snapshots of the billing actor's per-user state with the ledger "
    "offset each covers, and per-partition rounds: a billing worker starts from them and "
    "folds only the ledger's tail (and the operation-id window).",
    producers=("billing-actor",),
    consumers=("billing-actor",),
    cleanup_policy="compact",
)
PAYMENTS_EVENTS: Final = TopicSpec[PaymentEvent](
    name="bot.payments.events",
    key_kind="user",
    value_type=PaymentEvent,
    description="Telegram Stars payments: invoices, pre-checkout answers, successful "
    "payments, refund requests and outcomes.",
    producers=("gateway", "payments"),
    consumers=("payments", "projections", "analytics"),
)
ADMIN_EVENTS: Final = TopicSpec[AdminEvent](
    name="bot.admin.events",
    key_kind="global",
    value_type=AdminEvent,
    description="Bot-wide admin records under the single key 'global': owner margin "
    "changes, announcements.",
    producers=("gateway",),
    consumers=("payments", "billing-actor", "broadcaster", "projections"),
    partitions=1,
)
BROADCAST_EVENTS: Final = TopicSpec[BroadcastEvent](
    name="bot.broadcast.events",
    key_kind="global",
    value_type=BroadcastEvent,
    description="What the broadcaster did with confirmed announcements, under the single "
    "key 'global': recipients listed, broadcast started, each delivery's intent (before the "
    "send), deferral (429) and outcome (sent, failed, blocked), finished with the counts.",
    producers=("broadcaster",),
    consumers=("broadcaster", "analytics"),
    partitions=1,
)

PLANNED: Final[dict[str, str]] = {
    "thread.settings_override_requested": "per-thread model/personality (no command sends it)",
}
"""Record types declared on a topic (schemas, projections) that nothing produces yet, with
the feature that will produce them. The branch that adds a producer removes its line."""

TOPICS: Final[tuple[TopicSpec[Any], ...]] = (
    THREAD_INBOX,
    THREAD_EVENTS,
    USERS_COMMANDS,
    USERS_EVENTS,
    BILLING_COMMANDS,
    BILLING_LEDGER,
    PAYMENTS_EVENTS,
    ADMIN_EVENTS,
    BILLING_SNAPSHOTS,
    BROADCAST_EVENTS,
)
"""Every data topic, in a stable order."""


def all_topics() -> tuple[TopicSpec[Any], ...]:
    """Every topic to create: the data topics and their dead-letter twins."""
    return TOPICS + tuple(t.dead_letter() for t in TOPICS)


def topic_named(name: str) -> TopicSpec[Any]:
    """The spec of a data or dead-letter topic by its (unprefixed) name."""
    for spec in all_topics():
        if spec.name == name:
            return spec
    raise KeyError(f"no topic named {name!r} in the catalog")


def record_types() -> dict[str, type[Envelope]]:
    """Every current record class by its tag; raises if a tag is on two topics."""
    found: dict[str, type[Envelope]] = {}
    for spec in TOPICS:
        for cls in spec.record_types:
            tag = event_type(cls)
            if tag in found:
                raise ValueError(f"tag {tag!r} is declared twice")
            found[tag] = cls
    return found


def topic_of(tag: str) -> TopicSpec[Any]:
    """The topic a record type belongs to."""
    for spec in TOPICS:
        if any(event_type(cls) == tag for cls in spec.record_types):
            return spec
    raise KeyError(f"no topic carries {tag!r}")


def with_prefix(spec: TopicSpec[E], prefix: str) -> TopicSpec[E]:
    """The same topic under ``prefix + name`` (tests, side-by-side environments)."""
    if not prefix:
        return spec
    dead_letter_of = None if spec.dead_letter_of is None else prefix + spec.dead_letter_of
    return dataclasses.replace(spec, name=prefix + spec.name, dead_letter_of=dead_letter_of)
