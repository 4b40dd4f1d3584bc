"""The composition root: what every process builds once, from one :class:`Settings`.

A process (``botctl <service>``, ``botctl run`` with every service in it, a test, a
benchmark) opens one :class:`Root`; each service entry point takes it and asks only for what
it uses. Everything is built on first request and shared afterwards:

- ``await root.profile()``: the broker probed once (cluster id, Tansu workarounds);
- ``await root.ensure_topics(specs)``: each topic created or verified once per process;
- ``root.bot()``: the one Telegram ``Bot`` (aiogram is imported only here, only then);
- ``root.claude_api()``: where the Claude API is and its request headers (no SDK);
- ``root.claude()``: the one Claude SDK client (anthropic imported only here, only then:
  the Files API uploads ask for it on the first upload);
- ``await root.producer()``: one started Kafka producer;
- ``await root.read_views()``: the projector's read models (PostgreSQL pool, Redis).

With a ``readiness`` (a service serving ``/readyz``), every dependency the process uses is
probed from then on (:mod:`infra.dependency_watch`): the broker once ``watch_broker`` is
called, PostgreSQL and Redis when the pool or the client is first built, and whatever a
service registers with ``watch``.

``await root.close()`` closes what was built, in reverse order. A service that needs no Bot
or Claude never imports their libraries, so one process running some services stays small.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from events.catalog import TopicSpec
from infra.dependency_watch import DependencyWatch, Probe
from infra.endpoints import Endpoints, resolve_endpoints
from infra.kafka.compat import BrokerProfile, probe_broker, probe_cluster_id
from infra.kafka.topic_admin import EnsureReport, ensure_topics
from infra.service_health import Readiness
from infra.settings import Settings, load_settings

if TYPE_CHECKING:
    import anthropic
    import asyncpg
    from aiogram import Bot
    from aiokafka import AIOKafkaProducer
    from redis import asyncio as aioredis

    from infra.projector.views import ReadModelViews
    from infra.threads.claude_api import ClaudeApi

TELEGRAM_CALL_TIMEOUT = 30.0
"""Seconds a Bot API call may take (getUpdates sets its own, longer)."""


class Root:
    """One process's shared clients, built lazily from ``settings`` and ``endpoints``."""

    def __init__(
        self,
        settings: Settings,
        endpoints: Endpoints,
        *,
        profile: BrokerProfile | None = None,
        readiness: Readiness | None = None,
    ) -> None:
        self.settings = settings
        self.endpoints = endpoints
        self.readiness = readiness
        """The process's ``/readyz`` conditions (None: nobody asks, nothing is probed)."""
        self._watch = DependencyWatch(readiness) if readiness is not None else None
        self._profile = profile
        self._lock = asyncio.Lock()
        self._ensured: set[str] = set()
        self._closers: list[Callable[[], Awaitable[Any]]] = []
        self._bot: Bot | None = None
        self._claude: anthropic.AsyncAnthropic | None = None
        self._producer: AIOKafkaProducer | None = None
        self._pool: asyncpg.Pool | None = None
        self._redis: aioredis.Redis | None = None
        self._views: ReadModelViews | None = None

    @classmethod
    async def open(
        cls,
        settings: Settings | None = None,
        *,
        start_embedded: bool = False,
        readiness: Readiness | None = None,
    ) -> Root:
        """Resolve the endpoints (starting the embedded stack if asked) and probe the broker:
        an unreachable broker fails here, before any service starts."""
        settings = settings if settings is not None else load_settings()
        endpoints = await resolve_endpoints(settings, start_embedded=start_embedded)
        root = cls(settings, endpoints, readiness=readiness)
        await root.profile()
        root.watch_broker()
        return root

    @property
    def bootstrap(self) -> str:
        return self.endpoints.kafka_bootstrap

    async def profile(self) -> BrokerProfile:
        """The broker's profile, probed on the first call only."""
        if self._profile is None:
            async with self._lock:
                if self._profile is None:
                    self._profile = await probe_broker(self.bootstrap, self.settings.broker_compat)
        return self._profile

    def watch(self, name: str, probe: Probe) -> None:
        """Report ``name`` on ``/readyz`` from now on, as ``probe`` finds it (no-op without
        a readiness)."""
        if self._watch is not None:
            self._watch.watch(name, probe)

    def watch_broker(self) -> None:
        """Keep probing the broker (each probe a Metadata request on a new connection)."""
        bootstrap = self.bootstrap
        self.watch("broker", lambda: probe_cluster_id(bootstrap, timeout=2.0))

    async def ensure_topics(
        self, specs: Sequence[TopicSpec[Any]], *, name_prefix: str | None = None
    ) -> EnsureReport:
        """Create or verify the topics of ``specs`` not yet handled by this process (named
        with ``name_prefix``, default the ``TOPIC_PREFIX`` setting)."""
        prefix = self.settings.topic_prefix if name_prefix is None else name_prefix
        todo = [s for s in specs if prefix + s.name not in self._ensured]
        if not todo:
            return EnsureReport()
        report = await ensure_topics(self.bootstrap, todo, name_prefix=prefix)
        self._ensured.update(prefix + s.name for s in todo)
        return report

    def bot(self) -> Bot:
        """The process's Telegram ``Bot`` (needs ``TELEGRAM_BOT_TOKEN``)."""
        if self._bot is None:
            from aiogram import Bot
            from aiogram.client.session.aiohttp import AiohttpSession
            from aiogram.client.telegram import TelegramAPIServer

            from infra.telegram_models import keep_response_models

            self.settings.require("telegram_bot_token")
            assert self.settings.telegram_bot_token is not None
            session = AiohttpSession(
                api=TelegramAPIServer.from_base(self.settings.telegram_api_url),
                timeout=TELEGRAM_CALL_TIMEOUT,
            )
            self._bot = Bot(self.settings.telegram_bot_token.reveal(), session=session)
            keep_response_models(self._bot)
            self._closers.append(self._bot.session.close)
        return self._bot

    def claude_api(self) -> ClaudeApi:
        """The Claude API's base URL and request headers (needs ``ANTHROPIC_API_KEY``), for
        the worker's own Messages client: no SDK imported."""
        from infra.threads.claude_api import ClaudeApi

        self.settings.require("anthropic_api_key")
        assert self.settings.anthropic_api_key is not None
        return ClaudeApi.with_key(
            self.settings.anthropic_base_url, self.settings.anthropic_api_key.reveal()
        )

    def claude(self) -> anthropic.AsyncAnthropic:
        """The process's Claude SDK client (needs ``ANTHROPIC_API_KEY``); no SDK retries:
        the callers retry where a retry is safe."""
        if self._claude is None:
            import anthropic

            self.settings.require("anthropic_api_key")
            assert self.settings.anthropic_api_key is not None
            self._claude = anthropic.AsyncAnthropic(
                api_key=self.settings.anthropic_api_key.reveal(),
                base_url=self.settings.anthropic_base_url,
                max_retries=0,
            )
            self._closers.append(self._claude.close)
        return self._claude

    async def producer(self) -> AIOKafkaProducer:
        """One started producer with the broker's options, shared by the process."""
        if self._producer is None:
            from infra.kafka.clients import make_producer

            producer = make_producer(self.bootstrap, await self.profile())
            await producer.start()
            self._producer = producer
            self._closers.append(producer.stop)
        return self._producer

    async def pg_pool(self) -> asyncpg.Pool:
        """A small PostgreSQL pool for reads of the read models. While PostgreSQL is
        unreachable it waits for it (up to ``BROKER_WAIT``), so a service started during a
        database outage waits instead of exiting: restarted at once from the fork server,
        it would otherwise exit five times in seconds and stop the whole bot."""
        if self._pool is None:
            from infra.postgres import create_pool, wait_for_database

            dsn = self.endpoints.database_url
            await wait_for_database(dsn, self.settings.broker_wait)
            pool = await create_pool(dsn, min_size=1, max_size=4)
            self._pool = pool
            self._closers.append(pool.close)
            self.watch("postgres", lambda: pool.fetchval("SELECT 1"))
        return self._pool

    def redis(self) -> aioredis.Redis:
        """The process's Redis client (connections are opened on use)."""
        if self._redis is None:
            from infra.redis_store import create_redis

            client = create_redis(self.endpoints.redis_url)
            self._redis = client
            self._closers.append(client.aclose)
            self.watch("redis", client.ping)
        return self._redis

    async def read_views(self) -> ReadModelViews:
        """The projector's read models (Redis first, PostgreSQL behind), as the
        ``READ_SCHEMA`` and ``REDIS_KEY_PREFIX`` settings name them."""
        if self._views is None:
            from infra.projector.views import ReadModelViews

            self._views = ReadModelViews(
                await self.pg_pool(),
                self.redis(),
                schema=self.settings.read_schema,
                prefix=self.settings.redis_key_prefix,
            )
        return self._views

    async def close(self) -> None:
        """Close everything built, newest first."""
        if self._watch is not None:
            await self._watch.close()
        while self._closers:
            close = self._closers.pop()
            with contextlib.suppress(Exception):
                await close()
        self._bot = self._claude = self._producer = self._pool = self._redis = None
        self._views = None
