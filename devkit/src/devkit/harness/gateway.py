"""The gateway in tests: the deployed gateway (``open_gateway`` with every router) on a test's
topics, updates fed straight to it or long-polled from the Telegram emulator, the read views
a test does not need, and a reader of what the gateway wrote."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from aiogram import Bot
from aiogram.types import Update

from actors.gateway.batching import BatchConfig
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.topics import read_at_least
from events.catalog import TopicSpec
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.gateway.app import Gateway, open_gateway
from infra.kafka.compat import BrokerProfile
from infra.projector.views import UserSettings
from infra.settings import Secret, Settings
from infra.views import LedgerLine

WEBHOOK_SECRET = "s3cret-token_ok"


class NoBalances:
    """BalanceView fake: for tests whose gateway never reads balances."""

    async def balance(self, user_id: int) -> Decimal | None:
        return None

    async def recent_operations(self, user_id: int, limit: int = 10) -> list[LedgerLine]:
        return []


class NoSettings:
    """UserSettingsView fake for tests that do not look at settings (the real read model is
    exercised in test_gateway_user_settings)."""

    async def user_settings(self, user_id: int) -> UserSettings | None:
        return None


GatewayFactory = Callable[..., contextlib.AbstractAsyncContextManager[Gateway]]
"""``async with open_gateway(**options) as gateway``: the ``open_test_gateway`` fixture."""


def gateway_settings(
    telegram: TelegramEmulator, *, privileged_user_ids: frozenset[int] = frozenset()
) -> Settings:
    """Settings of a gateway talking to the emulator (with the test webhook secret)."""
    return Settings(
        telegram_bot_token=Secret(telegram.token),
        telegram_api_url=telegram.base_url,
        telegram_webhook_secret=Secret(WEBHOOK_SECRET),
        privileged_user_ids=privileged_user_ids,
    )


@contextlib.asynccontextmanager
async def open_test_gateway(
    settings: Settings,
    stack: Endpoints,
    profile: BrokerProfile,
    prefix: str,
    *,
    bot: Bot,
    **options: Any,
) -> AsyncIterator[Gateway]:
    """The deployed gateway under ``prefix``, through its own composition root (closed on
    exit). ``options`` go to ``open_gateway``; by default a 0.2 s batch window and no read
    views (:class:`NoBalances`, :class:`NoSettings`)."""
    options.setdefault("batch_config", BatchConfig(window=0.2))
    options.setdefault("user_settings", NoSettings())
    options.setdefault("balances", NoBalances())
    root = Root(settings, stack, profile=profile)
    try:
        async with open_gateway(root, topic_prefix=prefix, bot=bot, **options) as gateway:
            yield gateway
    finally:
        await root.close()


async def feed(gateway: Gateway, update: dict[str, Any]) -> None:
    """Handle one update (the emulator's JSON) through the gateway's intake, as polling and
    the webhook do, and return once its replies are sent."""
    bot = gateway.ctx.bot
    handled = await gateway.intake.feed(Update.model_validate(update, context={"bot": bot}))
    if not handled:
        raise AssertionError(f"update {update.get('update_id')} failed in the gateway (see log)")
    await gateway.services.replies.drain(timeout=30)


def press_button(
    telegram: TelegramEmulator, user_id: int, message: Any, data: str
) -> dict[str, Any]:
    """``user_id`` presses the inline button ``data`` under ``message`` (an emulator message);
    answers the injected update."""
    return telegram.inject_update(
        {
            "callback_query": {
                "id": f"cb{user_id}-{len(telegram.calls())}",
                "from": telegram.world.user_json(user_id),
                "chat_instance": "ci",
                "message": message.json,
                "data": data,
            }
        }
    )


def last_text(telegram: TelegramEmulator, chat_id: int) -> str:
    """The text of the bot's last message in ``chat_id``."""
    return telegram.bot_messages(chat_id)[-1].text or ""


@contextlib.asynccontextmanager
async def polling(gateway: Gateway) -> AsyncIterator[asyncio.Event]:
    """The gateway's poller running in the background (short long-poll timeout)."""
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.poller(timeout=1).run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


class TopicReader:
    """Reads every record of a (prefixed) topic from the start, decoded with its codec."""

    def __init__(self, stack: Endpoints, profile: BrokerProfile, prefix: str) -> None:
        self._stack = stack
        self._profile = profile
        self._prefix = prefix

    async def read(
        self,
        spec: TopicSpec[Any],
        *,
        count: int,
        timeout: float = 20.0,
        settle: float = 0.0,
    ) -> list[Any]:
        """At least ``count`` records (waiting up to ``timeout``), then ``settle`` seconds
        more to catch any extra ones; decoded, in partition-offset order."""
        return await read_at_least(
            self._stack.kafka_bootstrap,
            self._profile,
            spec,
            self._prefix,
            count=count,
            timeout=timeout,
            settle=settle,
        )
