"""What the gateway's own routers use besides :class:`GatewayContext`: the command writers,
the user settings view, and background replies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from actors.gateway.batching import BatchConfig
from infra.gateway.context import GatewayContext
from infra.gateway.inbox import ThreadInbox
from infra.gateway.user_settings import UserSettingsView
from infra.gateway.users import UserCommands

log = logging.getLogger(__name__)


@dataclass
class Replies:
    """Replies sent in the background: handling an update ends when its commands are durable,
    not when Telegram has answered (a flood-control wait must not hold up the next update)."""

    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def send(self, call: Awaitable[Any], *, what: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(call, what))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _guard(self, call: Awaitable[Any], what: str) -> None:
        try:
            await call
        except Exception:
            log.warning("reply failed", exc_info=True, extra={"fields": {"reply": what}})

    async def drain(self, timeout: float = 5.0) -> None:
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass
class GatewayServices:
    inbox: ThreadInbox
    users: UserCommands
    user_settings: UserSettingsView | None = None
    replies: Replies = field(default_factory=Replies)

    @classmethod
    def create(
        cls,
        ctx: GatewayContext,
        *,
        batch_config: BatchConfig | None = None,
        user_settings: UserSettingsView | None = None,
        publish_timeout: float = 10.0,
    ) -> GatewayServices:
        return cls(
            inbox=ThreadInbox(
                ctx.publisher,
                clock=ctx.clock,
                batch_config=batch_config,
                publish_timeout=publish_timeout,
            ),
            users=UserCommands(ctx.publisher, clock=ctx.clock, publish_timeout=publish_timeout),
            user_settings=user_settings,
        )

    async def close(self) -> None:
        await self.inbox.flush_all()
        await self.replies.drain()
