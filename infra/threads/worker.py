"""The thread worker: its own consumer loop feeds ``bot.thread.inbox`` to the thread actor.

Start it with ``botctl thread-worker`` (:func:`run_thread_worker`); its tuning comes from
the ``THREAD_*`` settings (:class:`ThreadWorkerConfig`), its clients from the root.

The loop (:class:`~infra.kafka.acked_consumer.AckedConsumer`, group ``thread-actor``) decodes
each record (undecodable ones go to the dead-letter topic), hands it to the actor's mailbox
for its thread key and goes on to the next record at once. The actor acks each command when
what it caused is durable; the loop commits an inbox partition only up to its first
delivered and unacked offset (:mod:`infra.kafka.contiguous_acks`), so out-of-order
completion across threads never skips a command. Thread states live in
:class:`~infra.threads.table_store.ChangelogStore`, restored from their compacted changelog
for the partitions assigned before any of their inbox records is handled.

Until issue 13 the inbox went through a Faust agent; its consumer thread's hand-off was
the tail of the update->model-request latency (bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg
from aiokafka import AIOKafkaProducer

from actors.thread.models import Provider
from actors.thread.provider import ChatProvider
from actors.thread.tools.catalog import default_registry
from actors.thread.tools.registry import ToolRegistry
from events.catalog import (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    THREAD_EVENTS,
    THREAD_INBOX,
    USERS_EVENTS,
    TopicSpec,
    with_prefix,
)
from events.codec import DecodeError, codec_for
from infra.bootstrap import Root
from infra.files.services import start_file_services
from infra.kafka.acked_consumer import Ack, AckedConsumer, Record
from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import FAUST_HEARTBEAT_INTERVAL_S, FAUST_SESSION_TIMEOUT_S, BrokerProfile
from infra.kafka.dead_letter import send_to_dead_letter
from infra.settings import Settings
from infra.threads.actor import ThreadActor
from infra.threads.claude_client import ClaudeClient
from infra.threads.facts import QUEUE_WAIT, ActorConfig
from infra.threads.generation_slots import GenerationSlots
from infra.threads.log_views import LogViews, ReadModelSeed
from infra.threads.mailbox import InboxItem
from infra.threads.metrics import INBOX_DELIVERY, LOOP_LAG
from infra.threads.stores import ProducerPool, ProducerSink
from infra.threads.table_store import THREAD_STATE_CHANGELOG, ChangelogStore
from infra.threads.telegram_output import TelegramOutput
from infra.threads.tool_ports import ClaudeModelPort
from infra.threads.tool_runtime import ToolRuntime
from infra.threads.turn import TurnRunner
from infra.threads.turn_state import DEFAULT_MAX_ITERATIONS, TurnConfig
from infra.tools.wiring import build_providers

log = logging.getLogger(__name__)

PARTITIONS = 12


TOPICS = (THREAD_INBOX, THREAD_EVENTS, USERS_EVENTS, BILLING_COMMANDS, BILLING_LEDGER)


@dataclass(frozen=True, slots=True)
class ThreadWorkerConfig:
    topic_prefix: str = ""
    thinking_budget: int | None = None
    first_token_timeout: float = 60.0
    idle_timeout: float = 60.0
    model_retries: int = 1
    balance_wait: float = 2.0
    queue_wait: float = QUEUE_WAIT
    producers: int = 4
    data_dir: Path | None = None
    read_schema: str = "public"
    max_tool_iterations: int = DEFAULT_MAX_ITERATIONS
    fetch_max_wait_ms: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ThreadWorkerConfig:
        """The ``THREAD_*`` settings, ``TOPIC_PREFIX`` and ``READ_SCHEMA``."""
        return cls(
            topic_prefix=settings.topic_prefix,
            thinking_budget=settings.thread_thinking_budget,
            first_token_timeout=settings.thread_first_token_timeout,
            idle_timeout=settings.thread_idle_timeout,
            model_retries=settings.thread_model_retries,
            balance_wait=settings.thread_balance_wait,
            queue_wait=settings.thread_queue_wait,
            producers=settings.thread_producers,
            data_dir=settings.thread_data_dir,
            read_schema=settings.read_schema,
            max_tool_iterations=settings.thread_max_tool_iterations,
            fetch_max_wait_ms=settings.thread_fetch_max_wait_ms,
        )


class ThreadWorker:
    """The inbox loop, the state store and the actor with its adapters."""

    def __init__(
        self,
        root: Root,
        profile: BrokerProfile,
        config: ThreadWorkerConfig,
        tools: ToolRegistry | None = None,
    ) -> None:
        self.tools = tools if tools is not None else default_registry()
        self.root = root
        endpoints = root.endpoints
        self.profile = profile
        self.config = config
        prefix = config.topic_prefix
        self.inbox_name = with_prefix(THREAD_INBOX, prefix).name
        self.producer: AIOKafkaProducer = make_producer(endpoints.kafka_bootstrap, profile)
        self.pool = ProducerPool(
            [self.producer]
            + [
                make_producer(endpoints.kafka_bootstrap, profile)
                for _ in range(max(0, config.producers - 1))
            ]
        )
        self.reader = make_consumer(endpoints.kafka_bootstrap, profile, [], group_id=None)
        self.store = ChangelogStore(
            with_prefix(THREAD_STATE_CHANGELOG, prefix).name, self.pool, self.reader
        )
        self.consumer = make_consumer(
            endpoints.kafka_bootstrap,
            profile,
            [],
            group_id=f"{prefix}{GROUP}",
            **inbox_consumer_options(profile, config.fetch_max_wait_ms),
        )
        self.inbox = AckedConsumer(
            self.consumer,
            self.inbox_name,
            self,
            self._handle,
            readiness=root.readiness,
            service="thread-worker",
        )
        self.views = LogViews(endpoints.kafka_bootstrap, profile, topic_prefix=prefix)
        self.actor: ThreadActor | None = None
        self._closers: list[Any] = []
        self._codec = codec_for(THREAD_INBOX)

    async def _handle(self, record: Record, ack: Ack) -> None:
        if record.timestamp:
            INBOX_DELIVERY.observe(max(0.0, time.time() - record.timestamp / 1000))
        try:
            command = self._codec.decode(record.value, record.headers)
        except DecodeError as exc:
            await send_to_dead_letter(self.producer, record, exc.reason, exc.detail)
            ack()
            return
        assert self.actor is not None
        self.actor.submit(InboxItem(command, record.partition, ack))

    async def assigned(self, partitions: set[int]) -> None:
        """Restore the states of ``partitions`` (before any of their inbox records)."""
        self.store.drop(self.store.owned() - partitions)
        started = time.monotonic()
        count = await self.store.restore(partitions)
        log.info(
            "thread states restored",
            extra={
                "fields": {
                    "partitions": sorted(partitions),
                    "records": count,
                    "seconds": round(time.monotonic() - started, 3),
                }
            },
        )

    async def revoked(self, partitions: set[int]) -> None:
        """Abandon the turns of ``partitions`` unacked (the next owner gets them again)."""
        if self.actor is not None:
            await self.actor.stop(partitions)
        self.store.forget()

    async def start(self) -> None:
        root = self.root
        root.settings.require("telegram_bot_token", "anthropic_api_key")
        await self.pool.start()
        self._closers.append(self.pool.stop)
        if root.endpoints.database_url:
            pool = await _read_pool(root)
            if pool is not None:
                self.views.seed = ReadModelSeed(pool, schema=self.config.read_schema)
        await self.views.start()
        self._closers.append(self.views.stop)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.views.caught_up.wait(), 30)
        redis = root.redis() if root.endpoints.redis_url else None
        bot = root.bot()
        claude = ClaudeClient(
            root.claude_api(),
            first_token_timeout=self.config.first_token_timeout,
            idle_timeout=self.config.idle_timeout,
        )
        self._closers.append(claude.close)  # its HTTP session
        # the SDK client (and the SDK) only on the first Files API upload; the root closes it
        files = await start_file_services(
            root.settings, root.endpoints.database_url, bot, root.claude
        )
        self._closers.append(files.close)
        providers = build_providers(root.settings, bot, files.transcriber)
        self._closers.append(providers.close)
        chat_providers: dict[Provider, ChatProvider] = {}
        if root.settings.google_api_key is not None:
            # google-genai only when Gemini is configured (start-up time and memory)
            from infra.threads.gemini_client import GeminiClient, make_gemini_client

            gemini = GeminiClient(
                make_gemini_client(
                    root.settings.google_api_key.reveal(), root.settings.google_gemini_base_url
                ),
                first_token_timeout=self.config.first_token_timeout,
                idle_timeout=self.config.idle_timeout,
            )
            self._closers.append(gemini.close)
            chat_providers["google"] = gemini
        runner = TurnRunner(
            claude,
            TelegramOutput(bot),
            TurnConfig(
                model_retries=self.config.model_retries,
                max_iterations=self.config.max_tool_iterations,
            ),
            tools=ToolRuntime(
                self.tools,
                claude=ClaudeModelPort(claude),
                files=files.tools,
                balances=self.views,
                providers=providers.providers,
            ),
            files=files.intake,
            providers=chat_providers,
        )
        files.on_ready(runner.use_files)  # a store that answers only later is used then
        self.actor = ThreadActor(
            store=self.store,
            sink=ProducerSink(self.pool),
            runner=runner,
            slots=GenerationSlots(redis, prefix=f"cg:{self.config.topic_prefix}gen:"),
            balances=self.views,
            preferences=self.views,
            config=ActorConfig(
                topic_prefix=self.config.topic_prefix,
                thinking_budget=self.config.thinking_budget,
                balance_wait=self.config.balance_wait,
                queue_wait=self.config.queue_wait,
                default_model=root.settings.default_model,
            ),
        )
        await self.reader.start()
        self._closers.append(self.reader.stop)
        await self.consumer.start()
        self._closers.append(self.consumer.stop)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume the inbox until ``stop`` is set."""
        await self.inbox.run(stop)

    async def stop(self) -> None:
        if self.actor is not None:
            await self.actor.stop()
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                await close()


async def run_thread_worker(
    root: Root,
    stop: asyncio.Event,
    *,
    config: ThreadWorkerConfig | None = None,
    tools: ToolRegistry | None = None,
) -> None:
    """Run the thread worker until ``stop`` is set (topics are ensured first); ``config``
    replaces the one from the root's settings, ``tools`` the built-in tool registry (tests
    add test-only tools)."""
    config = config or ThreadWorkerConfig.from_settings(root.settings)
    specs: list[TopicSpec[Any]] = [
        *TOPICS,
        *(t.dead_letter() for t in TOPICS),
        THREAD_STATE_CHANGELOG,
    ]
    report = await root.ensure_topics(specs, name_prefix=config.topic_prefix)
    for mismatch in report.mismatches:
        log.warning("topic differs from the catalog: %s", mismatch)
    worker = ThreadWorker(root, await root.profile(), config, tools)
    helpers: list[asyncio.Task[None]] = []
    try:
        await worker.start()
        log.info("thread worker started", extra={"fields": {"prefix": config.topic_prefix}})
        freeze_heap()
        helpers.append(asyncio.create_task(_freeze_again(FREEZE_AGAIN_AFTER)))
        helpers.append(asyncio.create_task(watch_loop_lag()))
        await worker.run(stop)
    finally:
        for helper in helpers:
            helper.cancel()
        await worker.stop()


FREEZE_AGAIN_AFTER: Final = 20.0
GROUP: Final = "thread-actor"
"""The inbox consumer group (the Faust app id of earlier versions: its offsets carry over)."""


def inbox_consumer_options(profile: BrokerProfile, fetch_max_wait_ms: int | None) -> dict[str, Any]:
    """The inbox consumer's options beyond :func:`~infra.kafka.clients.consumer_options`:
    the failover timing the Faust app had on Apache Kafka (Tansu keeps its own short
    timeouts), and the fetch wait when ``THREAD_FETCH_MAX_WAIT_MS`` sets one. On Apache
    Kafka a fetch returns as soon as a record arrives, so the wait only paces idle polls."""
    options: dict[str, Any] = {}
    if not profile.tansu_workarounds:
        options["session_timeout_ms"] = int(FAUST_SESSION_TIMEOUT_S * 1000)
        options["heartbeat_interval_ms"] = int(FAUST_HEARTBEAT_INTERVAL_S * 1000)
    if fetch_max_wait_ms:
        options["fetch_max_wait_ms"] = fetch_max_wait_ms
    return options


async def _read_pool(root: Root) -> asyncpg.Pool | None:
    """The root's pool, for the users read model; None (views read the log from zero) when
    PostgreSQL cannot be reached at start."""
    try:
        async with asyncio.timeout(10):
            return await root.pg_pool()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        log.warning("users read model unreachable, reading the logs from zero: %s", exc)
        return None


def freeze_heap() -> None:
    """Move everything alive now out of the garbage collector's sight (``gc.freeze``).

    The worker's heap after start-up (Faust, aiogram's and anthropic's pydantic models,
    aiokafka) holds ~350K objects; a full collection walks them all, ~0.2 s with the event
    loop stopped, whenever enough new long-lived objects pile up: the worst of the
    pipeline's tail latency. Objects made before this call are never collected (they live
    as long as the process anyway)."""
    gc.collect()
    gc.freeze()


async def watch_loop_lag(every: float = 0.05) -> None:
    """Observe, every ``every`` seconds, how late the loop wakes a timer (``LOOP_LAG``)."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + every
        await asyncio.sleep(every)
        LOOP_LAG.observe(max(0.0, loop.time() - due))


async def _freeze_again(delay: float) -> None:
    """Once more after the first partitions were assigned and the first turns ran."""
    await asyncio.sleep(delay)
    freeze_heap()
