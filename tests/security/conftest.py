"""The gateway as deployed (``open_gateway``: real producer, real read-model views) behind its
webhook endpoint, on this test's topics, with one privileged user id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest_asyncio
from aiogram import Bot
from aiohttp import web

from devkit.emulators.telegram import TelegramEmulator
from events.catalog import TopicSpec, with_prefix
from events.codec import codec_for
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.gateway.app import open_gateway
from infra.gateway.webhook import SECRET_HEADER
from infra.kafka.compat import BrokerProfile
from infra.kafka.topic_reader import TopicNotFound, read_topic_records
from infra.settings import Secret, Settings

ADMIN = 9_400_001
WEBHOOK_SECRET = "security-suite-webhook-secret_0123456789"


@dataclass
class Webhook:
    """Posts updates to the gateway's webhook and reads what it wrote."""

    url: str
    stack: Endpoints
    profile: BrokerProfile
    prefix: str

    async def post(self, body: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> int:
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, json=body, headers=headers) as response,
        ):
            return response.status

    async def records(self, spec: TopicSpec[Any]) -> list[Any]:
        """Every record of the (prefixed) topic now, decoded."""
        name = with_prefix(spec, self.prefix).name
        codec = codec_for(spec)
        try:
            return [
                codec.decode(r.value)
                async for r in read_topic_records(self.stack.kafka_bootstrap, self.profile, name)
            ]
        except TopicNotFound:
            return []


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
