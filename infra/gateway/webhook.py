"""Webhook mode: an aiohttp endpoint that checks Telegram's secret token header.

The endpoint always has a secret: the configured ``TELEGRAM_WEBHOOK_SECRET``, or one
generated at start (:func:`webhook_secret`) and registered with ``setWebhook``'s
``secret_token``, so only Telegram knows it. A request without the right
``X-Telegram-Bot-Api-Secret-Token`` is refused with 401 before its body is read (a forged
``successful_payment`` or a forged admin ``/topup`` never reaches a handler). The public URL
must be HTTPS (checked by the settings), so the secret and the updates are not readable on
the way. An accepted update is answered 200 once its commands are durable, and 500 if they
are not, so Telegram delivers it again (it retries non-2xx answers).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from typing import Final

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from infra.gateway.intake import UpdateIntake

log = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"


def webhook_secret(configured: str | None) -> str:
    """The secret the endpoint checks: the configured one (its form is checked by the
    settings), else a fresh random one (256 bits, Telegram's alphabet) for ``setWebhook``."""
    return configured if configured is not None else secrets.token_urlsafe(32)


def secret_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def webhook_app(bot: Bot, intake: UpdateIntake, *, path: str, secret: str) -> web.Application:
    if not secret:
        raise ValueError("the webhook endpoint needs a secret")

    async def handle(request: web.Request) -> web.Response:
        if not secret_matches(secret, request.headers.get(SECRET_HEADER)):
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        try:
            update = Update.model_validate(await request.json(), context={"bot": bot})
        except (ValueError, ValidationError) as exc:
            log.warning("webhook body is not an Update: %s", exc)
            return web.json_response({"ok": False, "error": "bad update"}, status=400)
        intake.arrivals.arrived(update, asyncio.get_running_loop().time())
        try:
            durable = await intake.feed(update)
        finally:
            intake.arrivals.handled(update)
        if durable:
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "error": "not durable, retry"}, status=500)

    app = web.Application()
    app.router.add_post(path, handle)
    return app
