"""What the gateway's own routers use besides :class:`GatewayContext`: the command writers,
the user settings view, and background replies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Final

from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod

from actors.gateway.batching import BatchConfig
from infra.gateway.context import GatewayContext
from infra.gateway.inbox import ThreadInbox
from infra.gateway.user_settings import RecentChoices, UserSettingsView
from infra.gateway.users import UserCommands

log = logging.getLogger(__name__)

REPLY_ATTEMPTS: Final = 4
REPLY_WAIT_LIMIT: Final = 30.0
"""A reply Telegram refused with retry_after is sent again up to this many times in all,
while the total wait stays within this many seconds."""


@dataclass
class Replies:
    """Replies sent in the background: handling an update ends when its commands are durable,
    not when Telegram has answered (a flood-control wait must not hold up the next update).

    A Bot API call that Telegram answers with flood control (``retry_after``) is sent again
    after the wait it asks for, so a user typing commands quickly still gets every answer.
    """

    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def send(self, call: Awaitable[Any], *, what: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(call, what))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _guard(self, call: Awaitable[Any], what: str) -> None:
        try:
            await self._with_retries(call)
        except Exception:
            log.warning("reply failed", exc_info=True, extra={"fields": {"reply": what}})

    @staticmethod
    async def _with_retries(call: Awaitable[Any]) -> None:
        waited = 0.0
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            try:
                await call
                return
            except TelegramRetryAfter as exc:
                # A TelegramMethod can be sent again; a bare coroutine cannot.
                retriable = isinstance(call, TelegramMethod) and attempt < REPLY_ATTEMPTS
                if not retriable or waited + exc.retry_after > REPLY_WAIT_LIMIT:
                    raise
                waited += exc.retry_after
                await asyncio.sleep(exc.retry_after)

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
    user_settings: RecentChoices | None = None
    replies: Replies = field(default_factory=Replies)

    @classmethod
    def create(
        cls,
        ctx: GatewayContext,
        *,
        batch_config: BatchConfig | None = None,
        user_settings: UserSettingsView | None = None,
    ) -> GatewayServices:
        return cls(
            inbox=ThreadInbox(ctx.publisher, clock=ctx.clock, batch_config=batch_config),
            users=UserCommands(ctx.publisher, clock=ctx.clock),
            user_settings=RecentChoices(user_settings) if user_settings is not None else None,
        )

    async def close(self) -> None:
        await self.inbox.flush_all()
        await self.replies.drain()
