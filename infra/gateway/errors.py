"""The gateway's error handler: log with context, tell the user, never swallow a lost command.

A :class:`CommandNotDurable` (the log did not take a command) is deliberately *not* handled:
it propagates to the update source, which then does not confirm the update, so Telegram
delivers it again. A view that did not answer (:class:`ViewUnavailable`) is answered with
what could not be read; every other error is logged and answered with a short apology (in
the user's Telegram language: an error path reads no view).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from actors.gateway import replies
from actors.texts import Language, language_of
from infra.gateway.context import GatewayContext
from infra.gateway.durable import CommandNotDurable
from infra.gateway.reads import ViewUnavailable
from infra.gateway.services import GatewayServices

log = logging.getLogger(__name__)


def build_error_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="errors")

    def language(event: ErrorEvent) -> Language:
        """The user's Telegram language (no view is read on an error path)."""
        message = event.update.message or event.update.edited_message
        query = event.update.callback_query
        user = message.from_user if message is not None else query.from_user if query else None
        return language_of(user.language_code if user is not None else None)

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
        text = replies.unavailable(language(event), event.exception.what)
        tell(event, text, "unavailable")
        return True

    @router.errors(~ExceptionTypeFilter(CommandNotDurable))
    async def on_error(event: ErrorEvent) -> bool:
        log.error(
            "update handling failed",
            exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
        )
        tell(event, replies.internal_error(language(event)), "internal_error")
        return True

    return router
