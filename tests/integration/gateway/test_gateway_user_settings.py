"""/model and /personality read the users read model (projector -> PostgreSQL/Redis), and show
the user's own fresh choice while the read model lags."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import asyncpg
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from actors.thread.models import HAIKU, OPUS, SONNET
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.telegram.state import ChatMessage
from devkit.harness.gateway import GatewayFactory, polling
from events import billing, catalog, users
from events.codec import codec_for
from events.envelope import new_envelope
from events.ids import new_id
from events.keys import user_key
from events.messages import TelegramUser
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.topic_admin import ensure_topics
from infra.migrations import migrate
from infra.postgres import create_pool
from infra.projector.runner import run_projector
from infra.projector.views import ReadModelViews
from infra.redis_store import create_redis
from infra.settings import load_settings

USER = 5557001
PIRATE = "Talk like a pirate."
THINKER = 5557002
RETURNING = 5557003


class Projected:
    """A projector running on this test's topics, its views, and a users-events writer."""

    def __init__(self, views: ReadModelViews, producer: AIOKafkaProducer, prefix: str) -> None:
        self.views = views
        self.producer = producer
        self.prefix = prefix

    async def write(self, record: Any, spec: Any = catalog.USERS_EVENTS) -> None:
        key, value, headers = codec_for(spec).encode(record)
        await self.producer.send_and_wait(self.prefix + spec.name, value, key=key, headers=headers)

    async def wait_for(
        self, check: Callable[[Any], bool], timeout: float = 60.0, user: int = USER
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check(await self.views.user_settings(user)):
            assert loop.time() < deadline, "the read model never showed it"
            await asyncio.sleep(0.05)

    async def wait_for_balance(self, user: int, timeout: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await self.views.balance(user) is None:
            assert loop.time() < deadline, "the read model never showed a balance"
            await asyncio.sleep(0.05)


@pytest_asyncio.fixture(loop_scope="session")
async def projected(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str, topic_prefix: str
) -> AsyncIterator[Projected]:
    report = await ensure_topics(stack.kafka_bootstrap, catalog.TOPICS, name_prefix=topic_prefix)
    assert report.ok, report.mismatches
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, pg_schema)  # before the projector does, so the views can read
    finally:
        await conn.close()
    cache_prefix = f"{pg_schema}:{topic_prefix}"
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_projector(
            Root(load_settings(), stack, profile=broker_profile),
            stop,
            topic_prefix=topic_prefix,
            schema=pg_schema,
            cache_prefix=cache_prefix,
        )
    )
    pool = await create_pool(stack.database_url, min_size=1, max_size=2)
    redis = create_redis(stack.redis_url)
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        views = ReadModelViews(pool, redis, schema=pg_schema, prefix=cache_prefix)
        yield Projected(views, producer, topic_prefix)
    finally:
        await producer.stop()
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        await pool.close()
        await redis.aclose()


def _env(user: int = USER) -> Any:
    return new_envelope(key=user_key(user), producer="users-actor")


def _ticked(message: ChatMessage) -> list[str]:
    rows = message.json["reply_markup"]["inline_keyboard"]
    return [b["text"] for row in rows for b in row if b["text"].startswith("✓")]


async def test_model_and_personality_come_from_the_read_model(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    projected: Projected,
) -> None:
    """The ✓ of /model and the text of /personality are the projected settings; right after
    /model haiku the next /model ticks Haiku although the read model still says Opus, and
    once the read model has it the gateway keeps nothing of its own."""
    await projected.write(
        users.UserRegistered(
            **_env(), profile=TelegramUser(user_id=USER, first_name="Anne"), default_model=SONNET
        )
    )
    await projected.write(
        users.ModelChanged(**_env(), user_id=USER, model=OPUS, previous_model=SONNET)
    )
    await projected.write(users.PersonalityChanged(**_env(), user_id=USER, personality=PIRATE))
    await projected.wait_for(lambda s: s is not None and s.personality == PIRATE)

    telegram_emulator.add_private_chat(USER, first_name="Anne")

    def keyboards() -> list[ChatMessage]:
        return [m for m in telegram_emulator.bot_messages(USER) if m.json.get("reply_markup")]

    def shown(text: str) -> bool:
        return any(text in (m.text or "") for m in telegram_emulator.bot_messages(USER))

    async with open_test_gateway(user_settings=projected.views) as gateway, polling(gateway):
        telegram_emulator.send_command(USER, "model")
        await telegram_emulator.wait_until(lambda: len(keyboards()) == 1, timeout=20)
        assert _ticked(keyboards()[0]) == ["✓ Claude Opus 4.6"]

        telegram_emulator.send_command(USER, "personality")
        await telegram_emulator.wait_until(lambda: shown(PIRATE), timeout=20)

        telegram_emulator.send_command(USER, "model", "haiku")
        await telegram_emulator.wait_until(lambda: shown("Model set to Claude Haiku"), timeout=20)
        telegram_emulator.send_command(USER, "model")
        await telegram_emulator.wait_until(lambda: len(keyboards()) == 2, timeout=20)
        assert _ticked(keyboards()[1]) == ["✓ Claude Haiku 4.5"]
        stored = await projected.views.user_settings(USER)
        assert stored is not None
        assert stored.default_model == OPUS  # no users actor runs here

        await projected.write(
            users.ModelChanged(**_env(), user_id=USER, model=HAIKU, previous_model=OPUS)
        )
        await projected.wait_for(lambda s: s is not None and s.default_model == HAIKU)
        recent = gateway.services.user_settings
        assert recent is not None
        settings = await recent.user_settings(USER)
        assert settings is not None
        assert settings.default_model == HAIKU
        assert len(recent) == 0


async def test_thinking_keyboard_ticks_the_projected_level(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    projected: Projected,
) -> None:
    """The /thinking keyboard ticks the level the users read model holds, and right after
    /thinking high the level just chosen, although the read model still says medium."""
    await projected.write(
        users.UserRegistered(
            **_env(THINKER),
            profile=TelegramUser(user_id=THINKER, first_name="Anne"),
            default_model=SONNET,
        )
    )
    await projected.write(users.ThinkingChanged(**_env(THINKER), user_id=THINKER, level="medium"))
    await projected.wait_for(lambda s: s is not None and s.thinking == "medium", user=THINKER)
    telegram_emulator.add_private_chat(THINKER, first_name="Anne")

    def keyboards() -> list[ChatMessage]:
        return [m for m in telegram_emulator.bot_messages(THINKER) if m.json.get("reply_markup")]

    async with open_test_gateway(user_settings=projected.views) as gateway, polling(gateway):
        telegram_emulator.send_command(THINKER, "thinking")
        await telegram_emulator.wait_until(lambda: len(keyboards()) == 1, timeout=20)
        assert [t.lower() for t in _ticked(keyboards()[0])] == ["✓ medium"]

        telegram_emulator.send_command(THINKER, "thinking", "high")
        await telegram_emulator.wait_until(
            lambda: any(
                "Thinking set to high" in (m.text or "")
                for m in telegram_emulator.bot_messages(THINKER)
            ),
            timeout=20,
        )
        telegram_emulator.send_command(THINKER, "thinking")
        await telegram_emulator.wait_until(lambda: len(keyboards()) == 2, timeout=20)
        assert [t.lower() for t in _ticked(keyboards()[1])] == ["✓ high"]


async def test_start_greets_a_returning_user_with_balance_model_and_commands(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    projected: Projected,
) -> None:
    """/start from someone the read model does not know is the first welcome; once their
    registration and balance are projected, /start welcomes them back with their balance,
    their model and the main commands."""
    telegram_emulator.add_private_chat(RETURNING, first_name="Anne")

    def texts() -> list[str]:
        return [m.text or "" for m in telegram_emulator.bot_messages(RETURNING)]

    views = projected.views
    async with (
        open_test_gateway(user_settings=views, balances=views) as gateway,
        polling(gateway),
    ):
        telegram_emulator.send_command(RETURNING, "start")
        await telegram_emulator.wait_until(lambda: len(texts()) == 1, timeout=20)
        first = texts()[0]
        assert "Hi! I'm Claude" in first
        assert "Welcome back" not in first
        assert "/new" in first

        await projected.write(
            users.UserRegistered(
                **_env(RETURNING),
                profile=TelegramUser(user_id=RETURNING, first_name="Anne"),
                default_model=OPUS,
            )
        )
        await projected.write(
            billing.StarterCreditGranted(
                **new_envelope(key=user_key(RETURNING), producer="billing"),
                operation_id=f"starter:{RETURNING}",
                user_id=RETURNING,
                amount=Decimal("1.00"),
                balance_after=Decimal("1.00"),
                command_id=new_id(),
                command_digest="0" * 16,
            ),
            catalog.BILLING_LEDGER,
        )
        await projected.wait_for(
            lambda s: s is not None and s.default_model == OPUS, user=RETURNING
        )
        await projected.wait_for_balance(RETURNING)

        telegram_emulator.send_command(RETURNING, "start")
        await telegram_emulator.wait_until(lambda: len(texts()) == 2, timeout=20)
        again = texts()[1]
        assert again.startswith("Welcome back, Anne!")
        assert "Balance: $1.00" in again
        assert "Model: Claude Opus 4.6" in again
        for name in ("new", "stop", "model", "balance", "pay", "help"):
            assert f"/{name} - " in again
