"""The gateway as deployed (``open_gateway``: real producer, real read-model views) behind its
webhook endpoint, on this test's topics, with one privileged user id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from aiogram import Bot
from aiohttp import web
from security_webhook import ADMIN, WEBHOOK_SECRET, Webhook

from devkit.emulators.telegram import TelegramEmulator
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.gateway.app import open_gateway
from infra.kafka.compat import BrokerProfile
from infra.settings import Secret, Settings


@pytest_asyncio.fixture(loop_scope="session")
async def webhook(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> AsyncIterator[Webhook]:
    """The gateway's webhook endpoint on a free port (flood limits off in the emulator)."""
    telegram_emulator.configure_flood(enabled=False)
    settings = Settings(
        telegram_bot_token=Secret(telegram_emulator.token),
        telegram_api_url=telegram_emulator.base_url,
        telegram_webhook_secret=Secret(WEBHOOK_SECRET),
        kafka_bootstrap_servers=stack.kafka_bootstrap,
        privileged_user_ids=frozenset({ADMIN}),
    )
    root = Root(settings, stack, profile=broker_profile)
    try:
        async with open_gateway(root, topic_prefix=topic_prefix, bot=telegram_bot) as gateway:
            runner = web.AppRunner(gateway.webhook_app(path="/hook", secret=WEBHOOK_SECRET))
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            try:
                yield Webhook(f"http://127.0.0.1:{port}/hook", stack, broker_profile, topic_prefix)
            finally:
                await runner.cleanup()
    finally:
        await root.close()
