"""A deterministic, realistic stream of records for tests, demos and the replay benchmark.

Users register and get the starter credit, open threads, send messages (some edited), get
answers with usage (some with tool calls and files), are charged per answer, buy Stars and
sometimes refund them; the billing actor's duplicate rejections appear too. Ledger entries
chain ``balance_after`` per user, as the real billing actor writes them.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from actors.billing.pricing import PRICE_TABLES
from actors.thread.models import HAIKU, OPUS, SONNET
from events import billing, catalog, files, payments, thread, tools, users
from events.catalog import TopicSpec
from events.envelope import Envelope, EnvelopeFields
from events.keys import thread_key, user_key
from events.messages import Attachment, TelegramUser, UserMessage
from events.usage import ToolQuantities, Usage

START: Final = datetime(2026, 5, 1, tzinfo=UTC)
_PER_MILLION: Final = Decimal(1_000_000)
_PRICES: Final = {  # input, output per million tokens (for plausible amounts)
    model: (price.input, price.output) for model, price in PRICE_TABLES[0].models.items()
}
_CENT: Final = Decimal("0.000001")
_WORDS: Final = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "while",
    "claude",
    "answers",
    "in",
    "markdown",
]


@dataclass
class _User:
    user_id: int
    balance: Decimal = Decimal(0)
    threads: list[str] = field(default_factory=list)
    charges: list[str] = field(default_factory=list)


Item = tuple[TopicSpec[Any], Envelope]


class Scenario:
    """Yields ``(topic, record)`` pairs; the same seed gives the same records."""

    def __init__(self, seed: int = 1, *, users: int = 200, start: datetime = START) -> None:
        self.rng = random.Random(seed)
        self.now = start
        self.user_count = users
        self.users: list[_User] = []
        self._ids = 0
        self._seed = seed
        self._message_ids: dict[int, int] = {}

    # ------------------------------------------------------------------ helpers

    def _id(self) -> str:
        self._ids += 1
        ms = int(self.now.timestamp() * 1000)
        value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | 0b10 << 62
        value |= (self._seed & 0xFFF) << 64 | self._ids
        return str(uuid.UUID(int=value))

    def _next_message_id(self, chat_id: int) -> int:
        """Telegram message ids are unique per chat (a forum's topics share them)."""
        mid = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = mid
        return mid

    def _env(self, key: str, producer: str) -> EnvelopeFields:
        self.now += timedelta(milliseconds=self.rng.randint(1, 40))
        record_id = self._id()
        return EnvelopeFields(
            id=record_id,
            occurred_at=self.now,
            key=key,
            causation_id=None,
            correlation_id=record_id,
            producer=producer,
        )

    def _text(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(_WORDS, k=self.rng.randint(low, high)))

    def _ledger(self, u: _User, cls: type[Any], op: str, amount: Decimal, **kw: Any) -> Item:
        u.balance += amount
        record = cls(
            **self._env(user_key(u.user_id), "billing"),
            operation_id=op,
            user_id=u.user_id,
            amount=amount,
            balance_after=u.balance,
            command_id=self._id(),
            command_digest=f"{self.rng.getrandbits(64):016x}",
            **kw,
        )
        return catalog.BILLING_LEDGER, record

    # ------------------------------------------------------------------ stories

    def _register(self) -> Iterator[Item]:
        uid = 5_000_000 + len(self.users) * 7 + 1
        u = _User(uid)
        self.users.append(u)
        profile = TelegramUser(user_id=uid, first_name=f"User{uid}", username=f"u{uid}")
        yield (
            catalog.USERS_EVENTS,
            users.UserRegistered(
                **self._env(user_key(uid), "users-actor"), profile=profile, default_model=SONNET
            ),
        )
        yield self._ledger(u, billing.StarterCreditGranted, f"starter:{uid}", Decimal("1.00"))

    def _open_thread(self, u: _User) -> Iterator[Item]:
        forum = self.rng.random() < 0.5
        chat_id = -100_000_000_000 - u.user_id if forum else u.user_id
        topic = len(u.threads) + 1 if forum else 0
        key = thread_key(chat_id, topic)
        u.threads.append(key)
        yield (
            catalog.THREAD_EVENTS,
            thread.ThreadOpened(
                **self._env(key, "thread-actor"),
                chat_id=chat_id,
                message_thread_id=topic,
                chat_type="supergroup" if forum else "private",
                is_forum=forum,
                opened_by_user_id=u.user_id,
            ),
        )

    def _message(self, u: _User, key: str) -> UserMessage:
        chat_id = int(key.split(":")[0])
        topic = int(key.split(":")[1])
        mid = self._next_message_id(chat_id)
        attachments: tuple[Attachment, ...] = ()
        if self.rng.random() < 0.1:
            attachments = (
                Attachment(
                    kind="photo",
                    file_id=f"f{mid}",
                    file_unique_id=f"u{mid}",
                    width=800,
                    height=600,
                ),
            )
        return UserMessage(
            chat_id=chat_id,
            chat_type="supergroup" if topic else "private",
            message_thread_id=topic or None,
            message_id=mid,
            sender=TelegramUser(user_id=u.user_id, first_name=f"User{u.user_id}"),
            sent_at=self.now,
            text=self._text(3, 40),
            attachments=attachments,
        )

    def _turn(self, u: _User, key: str) -> Iterator[Item]:
        msg = self._message(u, key)
        te = catalog.THREAD_EVENTS
        yield te, thread.UserMessageAccepted(**self._env(key, "thread-actor"), message=msg)
        if self.rng.random() < 0.05:
            edited = msg.__class__(**{**_fields(msg), "text": msg.text + " (edited)"})
            yield (
                te,
                thread.UserMessageEdited(
                    **self._env(key, "thread-actor"), message=edited, edited_at=self.now
                ),
            )
        model = self.rng.choice((HAIKU, SONNET, SONNET, SONNET, OPUS))
        turn_id = self._id()
        yield (
            te,
            thread.TurnStarted(
                **self._env(key, "thread-actor"),
                turn_id=turn_id,
                user_id=u.user_id,
                model=model,
                input_message_ids=(msg.message_id,),
                max_output_tokens=8192,
            ),
        )
        steps = 1
        if self.rng.random() < 0.15:
            steps = 2
            yield from self._tool_step(u, key, turn_id, model)
        usage = Usage(
            input_tokens=self.rng.randint(200, 20_000),
            output_tokens=self.rng.randint(20, 2_000),
            cache_read_input_tokens=self.rng.randint(0, 10_000),
        )
        bot_mid = self._next_message_id(msg.chat_id)
        answer = thread.AssistantMessageCompleted(
            **self._env(key, "thread-actor"),
            turn_id=turn_id,
            step=steps,
            user_id=u.user_id,
            model=model,
            api_message_id=f"msg_{turn_id[-12:]}",
            text=self._text(10, 120),
            stop_reason="end_turn",
            usage=usage,
            telegram_message_ids=(bot_mid,),
            billing_operation_id=f"usage:{turn_id}",
        )
        yield te, answer
        yield self._charge(u, key, answer.id, turn_id, model, usage)
        yield (
            te,
            thread.TurnCompleted(
                **self._env(key, "thread-actor"),
                turn_id=turn_id,
                user_id=u.user_id,
                steps=steps,
                telegram_message_ids=(bot_mid,),
            ),
        )

    def _tool_step(self, u: _User, key: str, turn_id: str, model: str) -> Iterator[Item]:
        te = catalog.THREAD_EVENTS
        tool_use_id = f"toolu_{self._id()[-20:]}"
        yield (
            te,
            tools.ToolCallRequested(
                **self._env(key, "thread-actor"),
                turn_id=turn_id,
                step=1,
                user_id=u.user_id,
                tool_use_id=tool_use_id,
                tool_name="execute_python",
                input={"code": "print(2 + 2)"},
                paid=True,
            ),
        )
        file_id = self._id()
        yield (
            te,
            files.FileGenerated(
                **self._env(key, "thread-actor"),
                file_id=file_id,
                turn_id=turn_id,
                tool_use_id=tool_use_id,
                tool_name="execute_python",
                file_name="out.png",
                mime_type="image/png",
                size_bytes=self.rng.randint(1000, 90_000),
                sha256=f"{self.rng.getrandbits(256):064x}",
                storage_uri=f"file:///cache/{file_id}",
            ),
        )
        seconds = Decimal(self.rng.randint(1, 30))
        done = tools.ToolCallCompleted(
            **self._env(key, "thread-actor"),
            turn_id=turn_id,
            user_id=u.user_id,
            tool_use_id=tool_use_id,
            tool_name="execute_python",
            output="4",
            duration_ms=int(seconds * 1000),
            quantities=ToolQuantities(sandbox_seconds=seconds),
            file_ids=(file_id,),
            billing_operation_id=f"usage:{tool_use_id}",
        )
        yield te, done
        cost = (seconds * Decimal("0.00005")).quantize(_CENT)
        yield self._ledger(
            u,
            billing.UsageDebited,
            f"usage:{done.id}",
            -cost,
            price_version="2026-05-01",
            source="tool_call",
            source_event_id=done.id,
            thread_key=key,
            turn_id=turn_id,
            tool_name="execute_python",
            tool_quantities=done.quantities,
            lines=(
                billing.CostLine(
                    item="sandbox_seconds",
                    quantity=seconds,
                    unit="second",
                    unit_price=Decimal("0.00005"),
                    amount=cost,
                ),
            ),
        )
        yield (
            te,
            files.FileDelivered(
                **self._env(key, "thread-actor"),
                file_id=file_id,
                chat_id=int(key.split(":")[0]),
                telegram_message_id=2_000_000 + self._ids,
                turn_id=turn_id,
            ),
        )

    def _charge(
        self, u: _User, key: str, source: str, turn_id: str, model: str, usage: Usage
    ) -> Item:
        price_in, price_out = _PRICES[model]
        cost_in = (usage.input_tokens * price_in / _PER_MILLION).quantize(_CENT)
        cost_out = (usage.output_tokens * price_out / _PER_MILLION).quantize(_CENT)
        op = f"usage:{source}"
        u.charges.append(op)
        return self._ledger(
            u,
            billing.UsageDebited,
            op,
            -(cost_in + cost_out),
            price_version="2026-05-01",
            source="model_call",
            source_event_id=source,
            thread_key=key,
            turn_id=turn_id,
            model=model,
            usage=usage,
            lines=(
                billing.CostLine(
                    item="input_tokens",
                    quantity=Decimal(usage.input_tokens),
                    unit="million_tokens",
                    unit_price=price_in,
                    amount=cost_in,
                ),
                billing.CostLine(
                    item="output_tokens",
                    quantity=Decimal(usage.output_tokens),
                    unit="million_tokens",
                    unit_price=price_out,
                    amount=cost_out,
                ),
            ),
        )

    def _payment(self, u: _User) -> Iterator[Item]:
        pe = catalog.PAYMENTS_EVENTS
        stars = self.rng.choice((10, 50, 100, 250, 500))
        payload = f"inv-{self._id()[-16:]}"
        usd = (Decimal(stars) * Decimal("0.013") * Decimal("0.40")).quantize(_CENT)
        yield (
            pe,
            payments.InvoiceIssued(
                **self._env(user_key(u.user_id), "gateway"),
                user_id=u.user_id,
                chat_id=u.user_id,
                invoice_payload=payload,
                stars=stars,
                quoted_usd=usd,
                owner_margin=Decimal("0.10"),
            ),
        )
        charge = f"ch-{self._id()[-16:]}"
        yield (
            pe,
            payments.PaymentSucceeded(
                **self._env(user_key(u.user_id), "gateway"),
                user_id=u.user_id,
                telegram_payment_charge_id=charge,
                invoice_payload=payload,
                stars=stars,
            ),
        )
        yield self._ledger(
            u,
            billing.PaymentCredited,
            f"payment:{charge}",
            usd,
            telegram_payment_charge_id=charge,
            stars=stars,
            usd_per_star=Decimal("0.013"),
            withdrawal_fee=Decimal("0.35"),
            topics_fee=Decimal("0.15"),
            owner_margin=Decimal("0.10"),
        )
        if self.rng.random() < 0.1:
            yield (
                pe,
                payments.RefundRequested(
                    **self._env(user_key(u.user_id), "gateway"),
                    user_id=u.user_id,
                    telegram_payment_charge_id=charge,
                    requested_by_user_id=u.user_id,
                ),
            )
            yield self._ledger(
                u,
                billing.RefundDebited,
                f"refund:{charge}",
                -usd,
                telegram_payment_charge_id=charge,
                stars=stars,
            )
            yield (
                pe,
                payments.Refunded(
                    **self._env(user_key(u.user_id), "payments"),
                    user_id=u.user_id,
                    telegram_payment_charge_id=charge,
                    stars=stars,
                ),
            )

    def _rejection(self, u: _User) -> Item:
        op = self.rng.choice(u.charges)
        return self._ledger(
            u,
            billing.OperationRejected,
            op,
            Decimal(0),
            command_type="billing.usage_charge_requested",
            reason="conflicting_duplicate",
        )

    # ------------------------------------------------------------------ the stream

    def records(self, count: int) -> Iterator[Item]:
        """At least ``count`` records (a story is never cut in the middle)."""
        produced = 0
        while produced < count:
            for item in self._story():
                produced += 1
                yield item

    def _story(self) -> Iterator[Item]:
        rng = self.rng
        if len(self.users) < self.user_count and (not self.users or rng.random() < 0.05):
            yield from self._register()
            return
        u = rng.choice(self.users)
        roll = rng.random()
        if not u.threads or roll < 0.03:
            yield from self._open_thread(u)
        elif roll < 0.06:
            yield from self._payment(u)
        elif roll < 0.065 and u.charges:
            yield self._rejection(u)
        elif roll < 0.07:
            yield (
                catalog.USERS_EVENTS,
                users.ModelChanged(
                    **self._env(user_key(u.user_id), "users-actor"),
                    user_id=u.user_id,
                    model=rng.choice((HAIKU, SONNET, OPUS)),
                ),
            )
        else:
            yield from self._turn(u, rng.choice(u.threads))


def _fields(struct: Any) -> dict[str, Any]:
    return {f: getattr(struct, f) for f in struct.__struct_fields__}
