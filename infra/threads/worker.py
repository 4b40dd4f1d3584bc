"""The thread worker: a Faust app whose agent feeds ``bot.thread.inbox`` to the thread actor.

Start it with :func:`run_thread_worker` (``botctl thread-worker``), or as a process:
``python -m infra.threads.worker`` with the usual environment (``KAFKA_BOOTSTRAP_SERVERS``,
``REDIS_URL``, ``TELEGRAM_*``, ``ANTHROPIC_*``) plus optional ``THREAD_TOPIC_PREFIX``,
``THREAD_THINKING_BUDGET``, ``THREAD_FIRST_TOKEN_TIMEOUT``, ``THREAD_IDLE_TIMEOUT``,
``THREAD_MODEL_RETRIES``, ``THREAD_MAX_TOOL_ITERATIONS``, ``THREAD_READ_SCHEMA`` (see
:class:`ThreadWorkerConfig`).

The agent reads the inbox with ``stream.noack()``: it decodes each record (undecodable ones
go to the dead-letter topic), hands it to the actor's mailbox for its thread key and goes on
to the next record at once. The actor acks each event when what it caused is durable;
the worker owns the commit rule (:mod:`infra.kafka.contiguous_acks`): Faust commits an inbox
partition only up to its first delivered and unacked offset, so out-of-order completion
across threads never skips a command (Faust's own rule can, faust-streaming#606). Thread
states live in the changelog-backed table ``thread-state``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import anthropic
import asyncpg
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
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
from infra.endpoints import Endpoints, resolve_endpoints
from infra.faust_app import make_faust_app
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile, probe_broker
from infra.kafka.contiguous_acks import ContiguousAcks
from infra.kafka.dead_letter import send_to_dead_letter
from infra.kafka.faust_commits import own_commit_rule
from infra.kafka.topic_admin import ensure_topics
from infra.logs import configure_logging
from infra.postgres import create_pool
from infra.redis_store import create_redis
from infra.settings import ConfigError, Settings, load_settings
from infra.threads.actor import ActorConfig, InboxItem, ThreadActor
from infra.threads.claude_client import ClaudeClient
from infra.threads.gemini_client import GeminiClient, make_gemini_client
from infra.threads.generation_slots import GenerationSlots
from infra.threads.log_views import LogViews, ReadModelSeed
from infra.threads.metrics import INBOX_DELIVERY, LOOP_LAG
from infra.threads.stores import FaustTableStore, ProducerPool, ProducerSink
from infra.threads.telegram_output import TelegramOutput
from infra.threads.tool_ports import ClaudeModelPort, TelegramFilesPort
from infra.threads.tool_runtime import ToolRuntime
from infra.threads.turn import DEFAULT_MAX_ITERATIONS, TurnConfig, TurnRunner

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
    producers: int = 4
    data_dir: Path | None = None
    read_schema: str = "public"
    max_tool_iterations: int = DEFAULT_MAX_ITERATIONS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ThreadWorkerConfig:
        env = os.environ if env is None else env

        def number(name: str, default: float) -> float:
            raw = env.get(name)
            try:
                return float(raw) if raw else default
            except ValueError:
                raise ConfigError(f"{name}: {raw!r} is not a number") from None

        budget = int(number("THREAD_THINKING_BUDGET", 0))
        data_dir = env.get("THREAD_DATA_DIR")
        return cls(
            topic_prefix=env.get("THREAD_TOPIC_PREFIX", ""),
            thinking_budget=budget or None,
            first_token_timeout=number("THREAD_FIRST_TOKEN_TIMEOUT", 60.0),
            idle_timeout=number("THREAD_IDLE_TIMEOUT", 60.0),
            model_retries=int(number("THREAD_MODEL_RETRIES", 1)),
            balance_wait=number("THREAD_BALANCE_WAIT", 2.0),
            producers=max(1, int(number("THREAD_PRODUCERS", 4))),
            data_dir=Path(data_dir) if data_dir else None,
            read_schema=env.get("THREAD_READ_SCHEMA", "public"),
            max_tool_iterations=max(
                1, int(number("THREAD_MAX_TOOL_ITERATIONS", DEFAULT_MAX_ITERATIONS))
            ),
        )


class ThreadWorker:
    """The Faust app, its table and agent, and the actor with its adapters."""

    def __init__(
        self,
        endpoints: Endpoints,
        settings: Settings,
        profile: BrokerProfile,
        config: ThreadWorkerConfig,
        tools: ToolRegistry | None = None,
    ) -> None:
        self.tools = tools if tools is not None else default_registry()
        self.endpoints = endpoints
        self.settings = settings
        self.profile = profile
        self.config = config
        prefix = config.topic_prefix
        data_dir = config.data_dir or Path(tempfile.mkdtemp(prefix="thread-worker-"))
        self.app = make_faust_app(
            f"{prefix}thread-actor",
            endpoints.kafka_bootstrap,
            profile,
            data_dir=data_dir,
            topic_partitions=PARTITIONS,
            stream_buffer_maxsize=8192,
            broker_commit_interval=1.0,
            table_standby_replicas=0,
            fetch_max_wait_ms=int(os.environ.get("THREAD_FETCH_MAX_WAIT_MS", "0")) or None,
        )
        self.inbox_name = with_prefix(THREAD_INBOX, prefix).name
        self.inbox = self.app.topic(
            self.inbox_name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=PARTITIONS,
        )
        self.table = self.app.Table(
            "thread-state",
            default=None,
            key_type=bytes,
            value_type=bytes,
            partitions=PARTITIONS,
        )
        self.ready = asyncio.Event()
        self.commits: ContiguousAcks[Any] = ContiguousAcks()
        self.producer: AIOKafkaProducer = make_producer(endpoints.kafka_bootstrap, profile)
        self.pool = ProducerPool(
            [self.producer]
            + [
                make_producer(endpoints.kafka_bootstrap, profile)
                for _ in range(max(0, config.producers - 1))
            ]
        )
        self.views = LogViews(endpoints.kafka_bootstrap, profile, topic_prefix=prefix)
        self.actor: ThreadActor | None = None
        self._closers: list[Any] = []
        self.app.agent(self.inbox, name=f"{prefix}thread-inbox")(self._consume)
        self.app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]

    async def _consume(self, stream: Any) -> None:
        await self.ready.wait()
        codec = codec_for(THREAD_INBOX)
        async for event in stream.noack().events():
            message = event.message
            if message.timestamp:
                INBOX_DELIVERY.observe(max(0.0, time.time() - message.timestamp))
            try:
                command = codec.decode(message.value, message.headers)
            except DecodeError as exc:
                ack = self._ack_of(event)
                await send_to_dead_letter(self.producer, message, exc.reason, exc.detail)
                ack()
                continue
            assert self.actor is not None
            self.actor.submit(InboxItem(command, message.partition, self._ack_of(event)))

    def _ack_of(self, event: Any) -> Callable[[], None]:
        """Record ``event`` as delivered; its ack for the commit rule and for Faust."""
        tp, offset = event.message.tp, event.message.offset
        self.commits.delivered(tp, offset)

        def ack() -> None:
            self.commits.acked(tp, offset)
            event.ack()

        return ack

    async def _on_revoked(self, app: Any, revoked: Any, **_: Any) -> None:
        partitions = {tp.partition for tp in revoked if tp.topic == self.inbox_name}
        self.commits.forget(tp for tp in revoked if tp.topic == self.inbox_name)
        if self.actor is not None and partitions:
            await self.actor.stop(partitions)
        store = self.actor.store if self.actor is not None else None
        if isinstance(store, FaustTableStore):
            store.forget()

    async def start(self) -> None:
        settings = self.settings
        settings.require("telegram_bot_token", "anthropic_api_key")
        assert settings.telegram_bot_token is not None
        assert settings.anthropic_api_key is not None
        await self.pool.start()
        self._closers.append(self.pool.stop)
        if self.endpoints.database_url:
            pool = await _read_pool(self.endpoints.database_url)
            if pool is not None:
                self._closers.append(pool.close)
                self.views.seed = ReadModelSeed(pool, schema=self.config.read_schema)
        await self.views.start()
        self._closers.append(self.views.stop)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.views.caught_up.wait(), 30)
        redis = create_redis(self.endpoints.redis_url) if self.endpoints.redis_url else None
        if redis is not None:
            self._closers.append(redis.aclose)
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        bot = Bot(settings.telegram_bot_token.reveal(), session=session)
        self._closers.append(bot.session.close)
        client = anthropic.AsyncAnthropic(
            api_key=settings.anthropic_api_key.reveal(),
            base_url=settings.anthropic_base_url,
            max_retries=0,
        )
        claude = ClaudeClient(
            client,
            first_token_timeout=self.config.first_token_timeout,
            idle_timeout=self.config.idle_timeout,
        )
        self._closers.append(claude.close)  # its streaming session and the SDK client
        providers: dict[Provider, ChatProvider] = {}
        if settings.google_api_key is not None:
            gemini = GeminiClient(
                make_gemini_client(
                    settings.google_api_key.reveal(), settings.google_gemini_base_url
                ),
                first_token_timeout=self.config.first_token_timeout,
                idle_timeout=self.config.idle_timeout,
            )
            self._closers.append(gemini.close)
            providers["google"] = gemini
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
                files=TelegramFilesPort(bot),
                balances=self.views,
            ),
            providers=providers,
        )
        self.actor = ThreadActor(
            store=FaustTableStore(self.table, self.pool),
            sink=ProducerSink(self.pool),
            runner=runner,
            slots=GenerationSlots(redis, prefix=f"cg:{self.config.topic_prefix}gen:"),
            balances=self.views,
            preferences=self.views,
            config=ActorConfig(
                topic_prefix=self.config.topic_prefix,
                thinking_budget=self.config.thinking_budget,
                balance_wait=self.config.balance_wait,
                default_model=settings.default_model,
            ),
        )
        own_commit_rule(self.app.consumer, self.commits, {self.inbox_name})
        self.ready.set()
        await self.app.start()

    async def stop(self) -> None:
        if self.actor is not None:
            await self.actor.stop()
        with contextlib.suppress(Exception):
            await self.app.stop()
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                await close()


async def run_thread_worker(
    endpoints: Endpoints,
    settings: Settings,
    stop: asyncio.Event,
    *,
    topic_prefix: str | None = None,
    config: ThreadWorkerConfig | None = None,
    tools: ToolRegistry | None = None,
) -> None:
    """Run the thread worker until ``stop`` is set (topics are ensured first); ``tools``
    replaces the built-in tool registry (tests add test-only tools)."""
    config = config or ThreadWorkerConfig.from_env()
    if topic_prefix is not None:
        config = ThreadWorkerConfig(**{**_fields(config), "topic_prefix": topic_prefix})
    profile = await probe_broker(endpoints.kafka_bootstrap, settings.broker_compat)
    specs: list[TopicSpec[Any]] = [*TOPICS, *(t.dead_letter() for t in TOPICS)]
    report = await ensure_topics(endpoints.kafka_bootstrap, specs, name_prefix=config.topic_prefix)
    for mismatch in report.mismatches:
        log.warning("topic differs from the catalog: %s", mismatch)
    worker = ThreadWorker(endpoints, settings, profile, config, tools)
    helpers: list[asyncio.Task[None]] = []
    try:
        await worker.start()
        log.info("thread worker ready", extra={"fields": {"prefix": config.topic_prefix}})
        freeze_heap()
        helpers.append(asyncio.create_task(_freeze_again(FREEZE_AGAIN_AFTER)))
        helpers.append(asyncio.create_task(watch_loop_lag()))
        stopping = asyncio.ensure_future(stop.wait())
        crashed = asyncio.ensure_future(worker.app._crashed.wait())
        await asyncio.wait([stopping, crashed], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        crashed.cancel()
        if worker.app._crashed.is_set():
            raise RuntimeError(f"the Faust app crashed: {worker.app.crash_reason!r}")
    finally:
        for helper in helpers:
            helper.cancel()
        await worker.stop()


FREEZE_AGAIN_AFTER: Final = 20.0


async def _read_pool(dsn: str) -> asyncpg.Pool | None:
    """A small pool for the users read model; None (views read the log from zero) when
    PostgreSQL cannot be reached at start."""
    try:
        async with asyncio.timeout(10):
            return await create_pool(dsn, min_size=1, max_size=4)
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


def _fields(config: ThreadWorkerConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


async def _main() -> None:
    from infra.metrics import serve_metrics
    from infra.services.lifecycle import stop_event_on_signals

    settings = load_settings()
    configure_logging(settings.log_level, secrets=settings.secret_values())
    serve_metrics(settings.metrics_port)
    endpoints = await resolve_endpoints(settings, start_embedded=False)
    await run_thread_worker(endpoints, settings, stop_event_on_signals())


if __name__ == "__main__":
    asyncio.run(_main())
