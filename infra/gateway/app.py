"""The gateway service: the aiogram Dispatcher from the routers, polling or webhook mode.

``run_gateway`` is the entry point (``botctl gateway``); :class:`Gateway` is the composition
root tests and benchmarks open with their own bot, broker prefix and views.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiohttp import web

from actors.gateway.batching import BatchConfig
from events.catalog import (
    ADMIN_EVENTS,
    BILLING_COMMANDS,
    PAYMENTS_EVENTS,
    THREAD_INBOX,
    USERS_COMMANDS,
)
from infra.bootstrap import Root
from infra.gateway.command_menu import announce_commands
from infra.gateway.context import GatewayContext
from infra.gateway.durable import DEFAULT_PUBLISH_TIMEOUT, DurablePublisher
from infra.gateway.intake import Arrivals, UpdateIntake
from infra.gateway.middlewares import UpdateContextMiddleware
from infra.gateway.polling import Poller
from infra.gateway.reads import VIEW_READ_TIMEOUT
from infra.gateway.routers import build_routers
from infra.gateway.services import ChatTopicsView, GatewayServices
from infra.gateway.user_settings import UserSettingsView
from infra.gateway.webhook import webhook_app, webhook_secret
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.service_health import startup_condition
from infra.settings import Settings
from infra.views import BalanceView

log = logging.getLogger(__name__)

GATEWAY_TOPICS = (THREAD_INBOX, USERS_COMMANDS, PAYMENTS_EVENTS, BILLING_COMMANDS, ADMIN_EVENTS)
"""Every topic the gateway writes (its routers' records included)."""


def build_dispatcher(ctx: GatewayContext, services: GatewayServices) -> Dispatcher:
    dispatcher = Dispatcher(name="gateway")
    dispatcher.update.outer_middleware(UpdateContextMiddleware())
    dispatcher.include_routers(*build_routers(ctx, services))
    return dispatcher


@dataclass
class Gateway:
    """A wired gateway: context, services, dispatcher and the update intake."""

    ctx: GatewayContext
    services: GatewayServices
    dispatcher: Dispatcher
    intake: UpdateIntake
    warming: asyncio.Task[None] | None = None
    """The admin views' first read, started with the gateway (see BillingReads.warm)."""

    @property
    def allowed_updates(self) -> list[str]:
        return self.dispatcher.resolve_used_update_types()

    def poller(self, *, timeout: int = 25) -> Poller:
        return Poller(
            self.ctx.bot, self.intake, allowed_updates=self.allowed_updates, timeout=timeout
        )

    def webhook_app(self, *, path: str, secret: str) -> web.Application:
        """The webhook endpoint at ``path``, refusing requests without ``secret``."""
        return webhook_app(self.ctx.bot, self.intake, path=path, secret=secret)

    @classmethod
    def wire(
        cls,
        *,
        settings: Settings,
        bot: Bot,
        publisher: EventPublisher,
        balances: BalanceView,
        user_settings: UserSettingsView | None = None,
        chat_topics: ChatTopicsView | None = None,
        batch_config: BatchConfig | None = None,
        publish_timeout: float = DEFAULT_PUBLISH_TIMEOUT,
        view_timeout: float = VIEW_READ_TIMEOUT,
        broker: tuple[str, BrokerProfile] | None = None,
    ) -> Gateway:
        ctx = GatewayContext(
            settings=settings,
            bot=bot,
            publisher=DurablePublisher(publisher, timeout=publish_timeout),
            balances=balances,
            view_timeout=view_timeout,
            broker=broker,
        )
        arrivals = Arrivals()
        services = GatewayServices.create(
            ctx,
            batch_config=batch_config,
            user_settings=user_settings,
            chat_topics=chat_topics,
            arrivals=arrivals,
        )
        dispatcher = build_dispatcher(ctx, services)
        return cls(ctx, services, dispatcher, UpdateIntake(dispatcher, bot, arrivals=arrivals))

    async def start(self) -> None:
        """Set the command menus and run the routers' startup hooks (polling and the
        webhook do not run them for us)."""
        await announce_commands(
            self.ctx.bot, self.services.replies, self.ctx.settings.privileged_user_ids
        )
        await self.dispatcher.emit_startup(bot=self.ctx.bot)
        self.warming = asyncio.create_task(self.services.billing.warm())

    async def close(self) -> None:
        if self.warming is not None:
            self.warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.warming
        await self.services.close()
        await self.dispatcher.emit_shutdown(bot=self.ctx.bot)


@contextlib.asynccontextmanager
async def open_gateway(
    root: Root,
    *,
    topic_prefix: str | None = None,
    bot: Bot | None = None,
    balances: BalanceView | None = None,
    user_settings: UserSettingsView | None = None,
    chat_topics: ChatTopicsView | None = None,
    batch_config: BatchConfig | None = None,
    view_timeout: float = VIEW_READ_TIMEOUT,
) -> AsyncIterator[Gateway]:
    """A running gateway's parts (topics ensured, the root's producer); closed on exit.

    ``balances`` and ``user_settings`` not given are the root's read views (the projector's
    read models, shared by every gateway replica), and then ``chat_topics`` too; ``bot`` not
    given is the root's."""
    prefix = root.settings.topic_prefix if topic_prefix is None else topic_prefix
    report = await root.ensure_topics(GATEWAY_TOPICS, name_prefix=prefix)
    for mismatch in report.mismatches:
        log.warning("topic differs from the catalog: %s", mismatch)
    producer = await root.producer()
    async with contextlib.AsyncExitStack() as stack:
        if balances is None or user_settings is None:
            views = await root.read_views()
            balances = balances or views
            user_settings = user_settings or views
            chat_topics = chat_topics or views
        gateway = Gateway.wire(
            settings=root.settings,
            bot=bot or root.bot(),
            publisher=EventPublisher(producer, topic_prefix=prefix),
            balances=balances,
            user_settings=user_settings,
            chat_topics=chat_topics,
            batch_config=batch_config,
            view_timeout=view_timeout,
            broker=(root.bootstrap, await root.profile()),
        )
        await gateway.start()
        stack.push_async_callback(gateway.close)
        yield gateway


async def run_gateway(root: Root, stop: asyncio.Event, *, polling_timeout: int = 25) -> None:
    """Run the gateway until ``stop`` is set (``botctl gateway``): long polling, or a webhook
    server when ``TELEGRAM_WEBHOOK_URL`` is set (listening on ``TELEGRAM_WEBHOOK_LISTEN`` at
    the URL's path, checking ``TELEGRAM_WEBHOOK_SECRET`` or a secret generated for the run)."""
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    settings = root.settings
    webhook_host, webhook_port = settings.telegram_webhook_listen
    async with open_gateway(root) as gateway:
        if root.readiness is not None:
            root.readiness.met(startup_condition("gateway"))
        bot = gateway.ctx.bot
        if settings.telegram_webhook_url is None:
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("gateway polling", extra={"fields": {"api": settings.telegram_api_url}})
            await gateway.poller(timeout=polling_timeout).run(stop)
            return
        url = settings.telegram_webhook_url
        await serve_webhook(gateway, url, stop, host=webhook_host, port=webhook_port)


async def serve_webhook(
    gateway: Gateway, url: str, stop: asyncio.Event, *, host: str, port: int
) -> None:
    """Until ``stop``: listen on ``host:port`` at ``url``'s path and register ``url`` with
    ``setWebhook`` and the secret (``TELEGRAM_WEBHOOK_SECRET``, else a random one)."""
    settings = gateway.ctx.settings
    configured = settings.telegram_webhook_secret
    secret = webhook_secret(configured.reveal() if configured is not None else None)
    if configured is None:
        log.warning(
            "TELEGRAM_WEBHOOK_SECRET is not set: using a random secret for this run "
            "(set one so that restarts and replicas share it)"
        )
    path = urlsplit(url).path or "/"
    runner = web.AppRunner(gateway.webhook_app(path=path, secret=secret))
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        await gateway.ctx.bot.set_webhook(
            url, secret_token=secret, allowed_updates=gateway.allowed_updates
        )
        log.info(
            "gateway webhook listening",
            extra={"fields": {"listen": f"{host}:{port}", "path": path}},
        )
        await stop.wait()
    finally:
        await runner.cleanup()
