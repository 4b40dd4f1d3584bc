"""The gateway's error handler: log with context, tell the user, never swallow a lost command.

A :class:`CommandNotDurable` (the log did not take a command) is deliberately *not* handled:
it propagates to the update source, which then does not confirm the update, so Telegram
delivers it again. A view that did not answer (:class:`ViewUnavailable`) is answered with
what could not be read; every other error is logged and answered with a short apology.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from actors.gateway import replies
from infra.gateway.context import GatewayContext
from infra.gateway.durable import CommandNotDurable
from infra.gateway.reads import ViewUnavailable
from infra.gateway.services import GatewayServices

log = logging.getLogger(__name__)


def build_error_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="errors")

    def tell(event: ErrorEvent, text: str, what: str) -> None:
        message = event.update.message or event.update.edited_message
        query = event.update.callback_query
        if message is not None:
            services.replies.send(message.answer(text, parse_mode=None), what=what)
        elif query is not None:
            services.replies.send(query.answer(text, show_alert=True), what=what)

    @router.errors(ExceptionTypeFilter(ViewUnavailable))
    async def on_unavailable(event: ErrorEvent) -> bool:
        assert isinstance(event.exception, ViewUnavailable)
        log.warning("view unavailable", extra={"fields": {"error": str(event.exception)}})
        tell(event, replies.unavailable(event.exception.what), "unavailable")
        return True

    @router.errors(~ExceptionTypeFilter(CommandNotDurable))
    async def on_error(event: ErrorEvent) -> bool:
        log.error(
            "update handling failed",
            exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
        )
        tell(event, replies.internal_error(), "internal_error")
        return True

    return router
