"""Helpers for the gateway integration tests (imported by the tests and the conftest)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from devkit.harness.topics import read_at_least
from events.catalog import TopicSpec
from infra.endpoints import Endpoints
from infra.gateway.app import Gateway
from infra.kafka.compat import BrokerProfile
from infra.projector.views import UserSettings
from infra.views import LedgerLine

WEBHOOK_SECRET = "s3cret-token_ok"


class NoBalances:
    """BalanceView fake: the gateway's own routers never read balances."""

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
