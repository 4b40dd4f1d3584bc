"""What every gateway router may use. Built once by the composition root.

Routers are ``build_router(ctx: GatewayContext, services: GatewayServices) -> aiogram.Router``
functions, one module per feature under ``infra/gateway/routers/`` (listed in
:data:`infra.gateway.routers.ROUTER_BUILDERS`); they translate updates into commands and
publish them, holding no business rules of their own. ``publisher`` is the durable write path
(a timeout, and a failure that keeps the update unconfirmed), never the raw producer; every
record names the producer :data:`actors.gateway.commands.PRODUCER`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiogram import Bot

from actors.thread.models import Provider, provider_of
from events.usage import ModelId
from infra.gateway.durable import DurablePublisher
from infra.gateway.reads import VIEW_READ_TIMEOUT
from infra.kafka.compat import BrokerProfile
from infra.settings import Settings
from infra.views import BalanceView


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GatewayContext:
    settings: Settings
    bot: Bot
    publisher: DurablePublisher
    balances: BalanceView
    clock: Callable[[], datetime] = field(default=_utc_now)
    view_timeout: float = VIEW_READ_TIMEOUT
    """Seconds a handler waits for a view (see :mod:`infra.gateway.reads`)."""
    producer_name: str = "gateway"
    broker: tuple[str, BrokerProfile] | None = None
    """The root's bootstrap servers and broker profile, for views built on first use (None:
    they resolve and probe their own)."""

    def is_privileged(self, user_id: int) -> bool:
        return user_id in self.settings.privileged_user_ids

    @property
    def chat_providers(self) -> frozenset[Provider]:
        """The chat providers this bot is configured for (Google: with ``GOOGLE_API_KEY``)."""
        found: set[Provider] = {"anthropic"}
        if self.settings.google_api_key is not None:
            found.add("google")
        return frozenset(found)

    def offers(self, model: ModelId) -> bool:
        """Whether ``/model`` may choose ``model`` here (its provider is configured)."""
        return provider_of(model) in self.chat_providers
