"""What the gateway's routers use besides :class:`GatewayContext`: the command writers, the
views they read, and the one reply path. Built once by :meth:`GatewayServices.create`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from aiogram.types import User

from actors.gateway.batching import BatchConfig
from actors.texts import Language, language_of
from infra.billing.views import CacheSubsidyView, MarginView, UsernameDirectory
from infra.gateway.context import GatewayContext
from infra.gateway.inbox import ThreadInbox
from infra.gateway.intake import Arrivals
from infra.gateway.reads import ViewUnavailable, read_view
from infra.gateway.replies import Replies
from infra.gateway.user_settings import RecentChoices, UserSettings, UserSettingsView
from infra.gateway.users import UserCommands

__all__ = ["BillingReads", "ChatTopicsView", "GatewayServices"]


log = logging.getLogger(__name__)


class ChatTopicsView(Protocol):
    async def chat_topics(self, chat_id: int) -> list[int]:
        """The forum topics of ``chat_id`` the bot has a conversation in (``/clear``; the
        threads read model, :class:`infra.projector.views.ReadModelViews`)."""
        ...


class BillingReads:
    """The owner margin, the cache-write subsidy and the @username directory, each connected
    on first use and read within the context's view timeout
    (:func:`infra.gateway.reads.read_view`)."""

    def __init__(
        self,
        ctx: GatewayContext,
        margins: MarginView | None = None,
        directory: UsernameDirectory | None = None,
    ) -> None:
        self._ctx = ctx
        self._margins = margins
        self._directory = directory
        self._subsidy: CacheSubsidyView | None = None
        self._connecting = asyncio.Lock()  # one view of each, whoever reads first

    async def warm(self) -> None:
        """Connect and read the margin and the subsidy now, at the gateway's start: a first
        read starts a consumer and reads the admin topic (seconds on a busy machine, once
        over the view timeout in CI), which the first /pay or price after a start should
        not wait for. A failure here is left to the first use."""
        for name, read in (("margin", self._margin), ("cache subsidy", self._cache_subsidy)):
            try:
                await read()
            except Exception as exc:
                log.info("%s view not warmed: %s: %s", name, type(exc).__name__, exc)

    async def margin(self, what: str = "view.price") -> Decimal:
        return await read_view(self._margin(), what=what, timeout=self._ctx.view_timeout)

    async def cache_subsidy(self) -> bool:
        """Whether the cache-write subsidy is on now."""
        return await read_view(
            self._cache_subsidy(), what="view.cache_subsidy", timeout=self._ctx.view_timeout
        )

    async def _cache_subsidy(self) -> bool:
        async with self._connecting:
            if self._subsidy is None:
                self._subsidy = await CacheSubsidyView.connect(
                    self._ctx.settings,
                    topic_prefix=self._ctx.publisher.topic_prefix,
                    broker=self._ctx.broker,
                )
        return (await self._subsidy.current()).current

    async def user_id(self, username: str) -> int | None:
        return await read_view(
            self._user_id(username), what="view.user_directory", timeout=self._ctx.view_timeout
        )

    async def _margin(self) -> Decimal:
        async with self._connecting:
            if self._margins is None:
                self._margins = await MarginView.connect(
                    self._ctx.settings,
                    topic_prefix=self._ctx.publisher.topic_prefix,
                    broker=self._ctx.broker,
                )
        return await self._margins.current()

    async def _user_id(self, username: str) -> int | None:
        if self._directory is None:
            self._directory = await UsernameDirectory.connect(
                self._ctx.settings, topic_prefix=self._ctx.publisher.topic_prefix
            )
        return await self._directory.user_id(username)

    async def close(self) -> None:
        for view in (self._margins, self._directory, self._subsidy):
            if view is not None:
                await view.close()


@dataclass
class GatewayServices:
    inbox: ThreadInbox
    users: UserCommands
    billing: BillingReads
    user_settings: RecentChoices | None = None
    chat_topics: ChatTopicsView | None = None
    replies: Replies = field(default_factory=Replies)

    @classmethod
    def create(
        cls,
        ctx: GatewayContext,
        *,
        batch_config: BatchConfig | None = None,
        user_settings: UserSettingsView | None = None,
        margins: MarginView | None = None,
        directory: UsernameDirectory | None = None,
        chat_topics: ChatTopicsView | None = None,
        arrivals: Arrivals | None = None,
    ) -> GatewayServices:
        return cls(
            inbox=ThreadInbox(
                ctx.publisher,
                clock=ctx.clock,
                batch_config=batch_config,
                busy=arrivals.busy if arrivals is not None else None,
            ),
            users=UserCommands(ctx.publisher, clock=ctx.clock),
            billing=BillingReads(ctx, margins, directory),
            user_settings=RecentChoices(user_settings) if user_settings is not None else None,
            chat_topics=chat_topics,
        )

    async def topics_of(self, chat_id: int, *, timeout: float) -> list[int]:
        """The chat's known forum topics; :class:`ViewUnavailable` when they cannot be read
        (or no view is wired)."""
        if self.chat_topics is None:
            raise ViewUnavailable("view.chat_topics", "no topics view")
        return await read_view(
            self.chat_topics.chat_topics(chat_id), what="view.chat_topics", timeout=timeout
        )

    async def settings_of(self, user_id: int, *, timeout: float) -> UserSettings | None:
        """The user's settings (None: not in the read model yet); :class:`ViewUnavailable`
        when they cannot be read (or no view is wired)."""
        if self.user_settings is None:
            raise ViewUnavailable("view.settings", "no settings view")
        return await read_view(
            self.user_settings.user_settings(user_id), what="view.settings", timeout=timeout
        )

    async def language_of(self, user: User | None, *, timeout: float) -> Language:
        """The language to answer ``user`` in: their ``/language`` choice, else their
        Telegram language (also when the settings cannot be read: a reply is never held up
        by its language)."""
        if user is None:
            return language_of(None)
        try:
            settings = await self.settings_of(user.id, timeout=timeout)
        except ViewUnavailable:
            settings = None
        return language_of(user.language_code, settings.language if settings else None)

    def chose_language(self, user_id: int, language: str) -> None:
        """Show the user's fresh ``/language`` choice over the read model (this replica)."""
        if self.user_settings is not None:
            self.user_settings.chose_language(user_id, language)

    async def close(self) -> None:
        await self.inbox.flush_all()
        await self.replies.drain()
        await self.billing.close()
