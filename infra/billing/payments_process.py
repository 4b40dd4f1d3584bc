"""The payments process: turns ledger outcomes of refunds into Telegram calls and messages.

Consumes ``bot.billing.ledger`` in its own group:

* ``ledger.refund_debited`` -> ``refundStarPayment``; then ``payments.refunded`` and a
  message. Telegram answering ``CHARGE_ALREADY_REFUNDED`` counts as done (a redelivery
  after a crash between the call and the commit). Any other refusal -> ``payments.
  refund_failed`` (stage ``error``) + ``billing.refund_reversal_requested`` (the debit is
  credited back) and a message saying why.
* ``ledger.operation_rejected`` of a refund -> ``payments.refund_failed`` (stage
  ``declined``) and a message with the reason.

Network errors, flood limits and Telegram server errors fail the batch: nothing is
committed, the consumer rewinds to its committed offsets and retries after a pause (the
refund may have happened: giving up would risk refunding the Stars *and* crediting the
balance back). Other Telegram errors (403 bot blocked, 404...) are retried
:data:`MAX_REFUND_ATTEMPTS` times, then handled like a refusal (failed + reversal, with the
reason). Records it publishes have ids derived from the ledger entry, so a retry publishes
the same records again (consumers dedupe).

Each refund operation is acted on once per process: a ledger entry whose operation id was
already handled (a duplicate entry the billing fold skips, or an entry before the failure
point of a retried batch) is skipped, and so is a second refund debit of a charge whose
refund was already acted on and not reversed (the billing fold skips such an entry too).
An operation is remembered as handled as soon as its outcome is published, *before* the
user is told: a flood limit (429) on the notice must never lead to a second
``refundStarPayment`` after a reversal was published. The notice goes out through the
gateway's one reply path (:class:`infra.gateway.replies.Replies`): sent again after the wait
Telegram asks for (bounded), then given up with a warning.

A ledger record this process cannot decode is copied to ``bot.billing.ledger.dlq`` (reason
and offset in its headers) and skipped: it is never silently lost, and never blocks refunds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Final

import asyncpg
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from actors.billing import commands, operations, replies
from actors.texts import DEFAULT_LANGUAGE, Language, language_of
from events.billing import OperationRejected, RefundDebited, RefundDebitRequested, RefundReversed
from events.catalog import (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    DEAD_LETTER_SUFFIX,
    PAYMENTS_EVENTS,
    LedgerRecord,
    with_prefix,
)
from events.codec import Codec, DecodeError, codec_for
from events.envelope import caused_by, event_type
from events.payments import Refunded, RefundFailed
from infra.billing import metrics
from infra.bootstrap import Root
from infra.gateway.replies import Replies
from infra.gateway.user_settings import UserSettingsView
from infra.kafka.assignment_readiness import track_assignment
from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.dead_letter import send_to_dead_letter
from infra.kafka.publisher import EventPublisher
from infra.metrics import DEAD_LETTERS
from infra.postgres import StoreTimeout
from infra.service_health import Readiness

log = logging.getLogger(__name__)

PRODUCER: Final = "payments"
GROUP_ID: Final = "payments"
ALREADY_REFUNDED: Final = "CHARGE_ALREADY_REFUNDED"
RETRY_PAUSE_S: Final = 2.0
LANGUAGE_READ_S: Final = 2.0
"""How long a notice waits for the user's language before it is sent in English."""
REFUND_COMMAND: Final = event_type(RefundDebitRequested)
MAX_REFUND_ATTEMPTS: Final = 3
"""Attempts of refundStarPayment answered with a non-transient, non-400 error."""
HANDLED_MEMORY: Final = 100_000
"""Refund operation ids remembered as handled (oldest forgotten first)."""
_OUTCOME_UNKNOWN: Final = (TelegramNetworkError, TelegramRetryAfter, TelegramServerError)


class _ReadyListener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, ready: asyncio.Event) -> None:
        self._ready = ready

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._ready.set()


class PaymentsProcess:
    def __init__(
        self,
        bootstrap: str,
        profile: BrokerProfile,
        bot: Bot,
        *,
        topic_prefix: str = "",
        group_id: str | None = None,
        readiness: Readiness | None = None,
        user_settings: UserSettingsView | None = None,
        replies: Replies | None = None,
    ) -> None:
        self._readiness = readiness
        self._bootstrap = bootstrap
        self._user_settings = user_settings
        self._profile = profile
        self._bot = bot
        self._replies = replies if replies is not None else Replies()
        self._prefix = topic_prefix
        self._topic = with_prefix(BILLING_LEDGER, topic_prefix).name
        self._group_id = group_id or topic_prefix + GROUP_ID
        self._codec: Codec[LedgerRecord] = codec_for(BILLING_LEDGER)
        self.ready = asyncio.Event()
        self.handled = 0
        self.skipped_duplicates = 0
        self._done: OrderedDict[str, None] = OrderedDict()
        self._refunded: OrderedDict[str, str] = OrderedDict()
        """charge id -> the refund operation acted on (until a reversal of it)."""
        self._attempts: dict[str, int] = {}
        self._producer: AIOKafkaProducer | None = None
        self.dead_letters = 0

    async def run(self, stop: asyncio.Event) -> None:
        producer = make_producer(self._bootstrap, self._profile)
        await producer.start()
        self._producer = producer
        consumer = make_consumer(self._bootstrap, self._profile, [], group_id=self._group_id)
        await consumer.start()
        listener = track_assignment(_ReadyListener(self.ready), self._readiness, "payments")
        consumer.subscribe([self._topic], listener=listener)
        publisher = EventPublisher(producer, topic_prefix=self._prefix)
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=200)
                if not batches:
                    continue
                try:
                    await self._handle(publisher, batches)
                except Exception:
                    log.exception("payments batch failed; retrying from the committed offsets")
                    await asyncio.sleep(RETRY_PAUSE_S)
                    await self._rewind(consumer, list(batches))
                    continue
                await consumer.commit(
                    {tp: OffsetAndMetadata(rs[-1].offset + 1, "") for tp, rs in batches.items()}
                )
        finally:
            await consumer.stop()
            await producer.stop()

    async def _rewind(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        for tp in tps:
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)

    async def _handle(
        self,
        publisher: EventPublisher,
        batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    ) -> None:
        for records in batches.values():
            for record in records:
                try:
                    entry = self._codec.decode(record.value, record.headers)
                except DecodeError as exc:
                    await self._dead_letter(record, exc)
                    continue
                if isinstance(entry, RefundDebited):
                    done = f"refund:{entry.operation_id}"
                    if not self._once(done) and not self._refunded_already(entry):
                        await self._refund(publisher, entry, done)
                elif isinstance(entry, RefundReversed):
                    if self._refunded.get(
                        entry.telegram_payment_charge_id
                    ) == operations.reversed_refund(entry.operation_id):
                        del self._refunded[entry.telegram_payment_charge_id]
                elif isinstance(entry, OperationRejected) and entry.command_type == REFUND_COMMAND:
                    done = f"declined:{entry.operation_id}"
                    if not self._once(done):
                        await self._declined(publisher, entry, done)
                self.handled += 1

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], exc: DecodeError) -> None:
        assert self._producer is not None
        log.error(
            "ledger record cannot be decoded; copied to the dead-letter topic",
            extra={"fields": {"offset": record.offset, "reason": exc.reason}},
        )
        await send_to_dead_letter(
            self._producer,
            record,
            exc.reason,
            f"payments process: {exc.detail}",
            dlq_topic=self._topic + DEAD_LETTER_SUFFIX,
        )
        self.dead_letters += 1
        DEAD_LETTERS.labels(BILLING_LEDGER.name).inc()

    def _refunded_already(self, entry: RefundDebited) -> bool:
        """A second refund debit of a charge already refunded under another operation (a
        zombie billing writer's entry, which the fold skips): never refunded twice."""
        acted = self._refunded.get(entry.telegram_payment_charge_id)
        if acted is not None and acted != entry.operation_id:
            self.skipped_duplicates += 1
            log.warning(
                "second refund debit of charge %s (%s; %s was acted on) skipped",
                entry.telegram_payment_charge_id,
                entry.operation_id,
                acted,
            )
            return True
        return False

    def _once(self, done: str) -> bool:
        """Whether this operation was already acted on (then it is skipped)."""
        if done in self._done:
            self.skipped_duplicates += 1
            log.info("refund operation already handled; entry skipped: %s", done)
            return True
        return False

    def _remember(self, done: str) -> None:
        self._done[done] = None
        if len(self._done) > HANDLED_MEMORY:
            self._done.popitem(last=False)

    async def _refund(self, publisher: EventPublisher, entry: RefundDebited, done: str) -> None:
        charge = entry.telegram_payment_charge_id
        try:
            await self._bot.refund_star_payment(
                user_id=entry.user_id, telegram_payment_charge_id=charge
            )
        except TelegramBadRequest as exc:
            if ALREADY_REFUNDED not in exc.message:
                await self._telegram_refused(publisher, entry, exc.message, done)
                return
        except _OUTCOME_UNKNOWN:
            raise  # the batch is retried: the refund may have been made
        except TelegramAPIError as exc:
            op = entry.operation_id
            attempts = self._attempts[op] = self._attempts.get(op, 0) + 1
            if attempts < MAX_REFUND_ATTEMPTS:
                raise
            del self._attempts[op]
            log.warning("refundStarPayment failed %d times; giving up: %s", attempts, exc.message)
            await self._telegram_refused(publisher, entry, exc.message, done)
            return
        self._attempts.pop(entry.operation_id, None)
        await publisher.publish(
            PAYMENTS_EVENTS,
            Refunded(
                **caused_by(entry, producer=PRODUCER, label="refunded"),
                user_id=entry.user_id,
                telegram_payment_charge_id=charge,
                stars=entry.stars,
            ),
        )
        self._remember(done)  # before telling: a failed notice must not refund again
        self._refunded[charge] = entry.operation_id
        if len(self._refunded) > HANDLED_MEMORY:
            self._refunded.popitem(last=False)
        metrics.REFUNDS.labels("refunded").inc()
        lang = await self._language(entry.user_id)
        await self._tell(
            entry.user_id, replies.refund_done(lang, entry.stars, entry.amount, charge)
        )

    async def _telegram_refused(
        self, publisher: EventPublisher, entry: RefundDebited, detail: str, done: str
    ) -> None:
        charge = entry.telegram_payment_charge_id
        failed = RefundFailed(
            **caused_by(entry, producer=PRODUCER, label="refund-failed"),
            user_id=entry.user_id,
            telegram_payment_charge_id=charge,
            stage="error",
            reason="telegram_error",
            detail=detail,
        )
        reversal = commands.refund_reversal(
            entry.user_id, charge, entry.operation_id, detail, producer=PRODUCER, cause=entry
        )
        await publisher.publish_all([(PAYMENTS_EVENTS, failed), (BILLING_COMMANDS, reversal)])
        # Remembered before telling: a 429 on the notice used to fail the batch, and its
        # retry called refundStarPayment again after the reversal was already published.
        self._remember(done)
        metrics.REFUNDS.labels("telegram_error").inc()
        lang = await self._language(entry.user_id)
        await self._tell(entry.user_id, replies.refund_failed(lang, charge, detail))

    async def _declined(
        self, publisher: EventPublisher, entry: OperationRejected, done: str
    ) -> None:
        charge = entry.operation_id.split(":")[1] if entry.operation_id.count(":") >= 2 else ""
        await publisher.publish(
            PAYMENTS_EVENTS,
            RefundFailed(
                **caused_by(entry, producer=PRODUCER, label="refund-declined"),
                user_id=entry.user_id,
                telegram_payment_charge_id=charge,
                stage="declined",
                reason=entry.reason,
                detail=entry.detail,
            ),
        )
        self._remember(done)
        metrics.REFUNDS.labels("declined").inc()
        lang = await self._language(entry.user_id)
        text = replies.refund_refused(lang, charge, entry.reason, entry.detail, entry.detail_values)
        await self._tell(entry.user_id, text)

    async def _language(self, user_id: int) -> Language:
        """The user's language (``/language``, else Telegram's, from the users read model);
        English when it cannot be read within :data:`LANGUAGE_READ_S`."""
        if self._user_settings is None:
            return DEFAULT_LANGUAGE
        try:
            async with asyncio.timeout(LANGUAGE_READ_S):
                settings = await self._user_settings.user_settings(user_id)
        except (TimeoutError, OSError, asyncpg.PostgresError, StoreTimeout) as exc:
            log.warning("language of user %s unavailable: %s", user_id, exc)
            return DEFAULT_LANGUAGE
        if settings is None:
            return DEFAULT_LANGUAGE
        return language_of(settings.language_code, settings.language)

    async def _tell(self, user_id: int, text: str) -> None:
        """Best effort, awaited: the outcome is already published. Through the gateway's
        reply path, which waits out a flood limit (bounded) and logs a notice it gives up."""
        notice = SendMessage(chat_id=user_id, text=text, parse_mode=None)
        await self._replies.attempt(notice.as_(self._bot), what="refund notice")


async def run_payments_process(
    root: Root, stop: asyncio.Event, *, topic_prefix: str | None = None, bot: Bot | None = None
) -> None:
    """``botctl payments``: refunds via Telegram with the root's ``Bot`` (or ``bot``)."""
    prefix = root.settings.topic_prefix if topic_prefix is None else topic_prefix
    await PaymentsProcess(
        root.bootstrap,
        await root.profile(),
        bot or root.bot(),
        topic_prefix=prefix,
        readiness=root.readiness,
        user_settings=await root.read_views(),
    ).run(stop)
