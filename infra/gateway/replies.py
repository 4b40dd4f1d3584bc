"""The gateway's one way to talk back to Telegram: every reply, keyboard, invoice and menu
goes through :class:`Replies`.

A Bot API call that Telegram answers with flood control (``retry_after``) is sent again after
the wait it asks for (up to :data:`REPLY_ATTEMPTS` sends within :data:`REPLY_WAIT_LIMIT`
seconds of waiting), so a user typing commands quickly still gets every answer.

* :meth:`Replies.send`: in the background. Handling an update ends when its commands are
  durable, not when Telegram has answered (a flood-control wait must not hold up the next
  update); a reply that fails for good is logged.
* :meth:`Replies.deliver`: awaited, for a call whose result the handler needs (the invoice's
  message id) or whose failure it answers (a private chat the user never opened).
* :meth:`Replies.attempt`: awaited, best effort: a call that fails for good is logged, not
  raised (the payments process's notices, sent after their outcome is published).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod

log = logging.getLogger(__name__)

T = TypeVar("T")

REPLY_ATTEMPTS: Final = 4
REPLY_WAIT_LIMIT: Final = 30.0
"""A reply Telegram refused with retry_after is sent again up to this many times in all,
while the total wait stays within this many seconds."""


@dataclass
class Replies:
    """Bot API calls made the flood-aware way (see the module docstring)."""

    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def send(self, call: TelegramMethod[Any], *, what: str) -> None:
        """Make ``call`` in the background (a bound method: ``message.answer(...)``)."""
        task = asyncio.get_running_loop().create_task(self.attempt(call, what=what))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def deliver(self, call: TelegramMethod[T]) -> T:
        """Make ``call`` now and return its result; Telegram's refusal raises."""
        waited = 0.0
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            try:
                return await call
            except TelegramRetryAfter as exc:
                if attempt == REPLY_ATTEMPTS or waited + exc.retry_after > REPLY_WAIT_LIMIT:
                    raise
                waited += exc.retry_after
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover

    async def attempt(self, call: TelegramMethod[T], *, what: str) -> T | None:
        """Make ``call`` now, best effort: its result, or ``None`` when it failed for good
        (logged with ``what``)."""
        try:
            return await self.deliver(call)
        except Exception:
            log.warning("reply failed", exc_info=True, extra={"fields": {"reply": what}})
            return None

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for the replies still being sent (at most ``timeout``), then drop the rest."""
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
