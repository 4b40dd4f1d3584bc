"""Helpers shared by the thread actor's integration and end-to-end tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from actors.thread.tools.registry import ToolRegistry
from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.testing import make_anthropic, make_bot
from devkit.harness.topics import read_topic
from devkit.stores import MemoryThreadStore
from events.billing import (
    ReservationReleaseRequested,
    StarterCreditGranted,
    UsageChargeRequested,
    UsageReserveRequested,
)
from events.catalog import (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    THREAD_EVENTS,
    THREAD_INBOX,
    TopicSpec,
)
from events.envelope import new_envelope
from events.ids import new_id
from events.keys import thread_key, user_key
from events.messages import Attachment, TelegramUser, UserMessage
from events.thread import StopRequested, UserMessageReceived
from infra.endpoints import Endpoints
from infra.files.thread_files import StoreFiles
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.topic_admin import ensure_topics
from infra.redis_store import create_redis
from infra.threads.actor import ThreadActor
from infra.threads.claude_client import ClaudeClient
from infra.threads.facts import ActorConfig
from infra.threads.generation_slots import GenerationSlots
from infra.threads.log_views import TailBalances, TailPreferences
from infra.threads.mailbox import InboxItem
from infra.threads.stores import ProducerSink
from infra.threads.telegram_output import TelegramOutput
from infra.threads.tool_ports import ClaudeModelPort
from infra.threads.tool_runtime import ToolRuntime
from infra.threads.turn import TurnRunner
from infra.threads.turn_state import TurnConfig


def message_command(
    chat_id: int,
    text: str,
    *,
    message_id: int,
    user_id: int | None = None,
    thread_id: int | None = None,
    attachments: tuple[Attachment, ...] = (),
    media_group_id: str | None = None,
    chat_type: str = "private",
) -> UserMessageReceived:
    user = user_id if user_id is not None else chat_id
    return UserMessageReceived(
        **new_envelope(key=thread_key(chat_id, thread_id), producer="test-gateway"),
        message=UserMessage(
            chat_id=chat_id,
            chat_type=chat_type,
            message_thread_id=thread_id,
            message_id=message_id,
            sender=TelegramUser(user_id=user, first_name="Tester"),
            sent_at=datetime.now(UTC),
            text=text,
            attachments=attachments,
            media_group_id=media_group_id,
            is_topic_message=thread_id is not None,
        ),
    )


def stop_command(chat_id: int, *, thread_id: int | None = None) -> StopRequested:
    return StopRequested(
        **new_envelope(key=thread_key(chat_id, thread_id), producer="test-gateway"),
        user_id=chat_id,
    )


def starter_credit(user_id: int, balance: str = "1.00") -> StarterCreditGranted:
    return StarterCreditGranted(
        **new_envelope(key=user_key(user_id), producer="test-billing"),
        operation_id=f"starter:{user_id}",
        user_id=user_id,
        amount=Decimal(balance),
        balance_after=Decimal(balance),
        command_id=new_id(),
        command_digest="0" * 64,
    )


async def thread_events(bootstrap: str, profile: BrokerProfile, prefix: str) -> list[Any]:
    return await read_topic(bootstrap, profile, THREAD_EVENTS, prefix)


async def billing_commands(bootstrap: str, profile: BrokerProfile, prefix: str) -> list[Any]:
    """The usage charges on the billing commands topic (reservations left out)."""
    found = await read_topic(bootstrap, profile, BILLING_COMMANDS, prefix)
    return [c for c in found if isinstance(c, UsageChargeRequested)]


async def reservation_commands(
    bootstrap: str, profile: BrokerProfile, prefix: str
) -> list[UsageReserveRequested | ReservationReleaseRequested]:
    """The reservations and releases on the billing commands topic."""
    found = await read_topic(bootstrap, profile, BILLING_COMMANDS, prefix)
    return [c for c in found if isinstance(c, UsageReserveRequested | ReservationReleaseRequested)]


LEDGER = BILLING_LEDGER


@dataclass
class Harness:
    actor: ThreadActor
    store: MemoryThreadStore
    balances: TailBalances
    telegram: TelegramEmulator
    claude: ClaudeEmulator
    prefix: str
    acked: list[str] = field(default_factory=list)

    def submit(self, command: object, partition: int = 0) -> None:
        cmd_id = command.id  # type: ignore[attr-defined]
        self.actor.submit(InboxItem(command, partition, lambda: self.acked.append(cmd_id)))  # type: ignore[arg-type]

    def fund(self, user_id: int, amount: str = "1.00") -> None:
        self.balances.balances[user_id] = Decimal(amount)


@contextlib.asynccontextmanager
async def running_harness(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    *,
    tools: ToolRegistry | None = None,
) -> AsyncIterator[Harness]:
    """The thread actor in this process against the real broker and Redis and both
    emulators (an in-memory state store), stopped on exit."""
    specs: list[TopicSpec[Any]] = [THREAD_INBOX, THREAD_EVENTS, BILLING_COMMANDS, BILLING_LEDGER]
    await ensure_topics(stack.kafka_bootstrap, specs, name_prefix=topic_prefix)
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    bot = make_bot(telegram_emulator)
    client = make_anthropic(claude_emulator)
    redis = create_redis(stack.redis_url)
    store = MemoryThreadStore()
    balances = TailBalances()
    claude = ClaudeClient(client, first_token_timeout=3.0, idle_timeout=3.0)
    runtime = (
        ToolRuntime(
            tools, claude=ClaudeModelPort(claude), files=StoreFiles(None, bot), balances=balances
        )
        if tools is not None
        else None
    )
    actor = ThreadActor(
        store=store,
        sink=ProducerSink(producer),
        runner=TurnRunner(
            claude,
            TelegramOutput(bot),
            TurnConfig(model_retries=0),
            tools=runtime,
        ),
        slots=GenerationSlots(redis, prefix=f"cg:{topic_prefix}gen:"),
        balances=balances,
        preferences=TailPreferences(),
        config=ActorConfig(topic_prefix=topic_prefix, balance_wait=0),
    )
    harness = Harness(actor, store, balances, telegram_emulator, claude_emulator, topic_prefix)
    try:
        yield harness
    finally:
        await actor.stop()
        await producer.stop()
        await bot.session.close()
        await claude.close()
        await redis.aclose()
