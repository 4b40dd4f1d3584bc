"""The gateway's error handler: log with context, tell the user, never swallow a lost command.

A :class:`CommandNotDurable` (the log did not take a command) is deliberately *not* handled:
it propagates to the update source, which then does not confirm the update, so Telegram
delivers it again. Every other error is logged and answered with a short apology.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from actors.gateway import replies
from infra.gateway.context import GatewayContext
from infra.gateway.inbox import CommandNotDurable
from infra.gateway.services import GatewayServices

log = logging.getLogger(__name__)


def build_error_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="errors")

    @router.errors(~ExceptionTypeFilter(CommandNotDurable))
    async def on_error(event: ErrorEvent) -> bool:
        log.error(
            "update handling failed",
            exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
        )
        message = event.update.message or event.update.edited_message
        if message is not None:
            services.replies.send(message.answer(replies.internal_error()), what="internal_error")
        return True

    return router
