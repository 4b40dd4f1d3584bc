"""Bot-wide admin settings and actions (topic ``bot.admin.events``, key ``"global"``).

One key, so every admin record is totally ordered; the current margin is the last
``admin.margin_changed``. Per-user admin actions go to their user's topic instead
(``billing.admin_top_up_requested``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from events.broadcast import TextEntity
from events.envelope import Envelope
from events.ids import Id


class MarginChanged(Envelope, tag="admin.margin_changed", frozen=True, kw_only=True):
    """``/set_margin``: the owner margin k3 changed (k1 + k2 + k3 <= 1)."""

    v: Literal[1] = 1
    owner_margin: Decimal
    previous_owner_margin: Decimal | None = None
    admin_user_id: int


class AnnouncementRequested(
    Envelope, tag="admin.announcement_requested", frozen=True, kw_only=True
):
    """``/announce``: a message to send to every user, or to the listed ones, once the
    author confirms it (the preview is shown meanwhile; see :mod:`events.broadcast`)."""

    v: Literal[1] = 1
    announcement_id: Id
    text: str
    admin_user_id: int
    entities: tuple[TextEntity, ...] = ()
    """Formatting of ``text`` as the author wrote it (sent as is)."""
    recipients: tuple[int, ...] | None = None
    """The user ids listed; None: every known user (listed when the broadcast starts)."""
    chat_id: int | None = None
    """Where the author asked (progress and the report go there); None: their private chat."""
    language: str | None = None
    """The author's language (``en``, ``ru``): the broadcaster reports in it."""


class AnnouncementConfirmed(
    Envelope, tag="admin.announcement_confirmed", frozen=True, kw_only=True
):
    """The author pressed Send under the preview: the broadcast may start."""

    v: Literal[1] = 1
    announcement_id: Id
    admin_user_id: int


class AnnouncementCancelled(
    Envelope, tag="admin.announcement_cancelled", frozen=True, kw_only=True
):
    """The author pressed Cancel under the preview: nothing is sent."""

    v: Literal[1] = 1
    announcement_id: Id
    admin_user_id: int


class AnnouncementStopRequested(
    Envelope, tag="admin.announcement_stop_requested", frozen=True, kw_only=True
):
    """``/announce stop``: the author stops their running broadcasts; nothing more is sent
    for them (a send already under way is recorded), and the report says how many were not
    sent. ``announcement_id`` None: every confirmed, unfinished announcement of this author
    at this point of the log."""

    v: Literal[1] = 1
    admin_user_id: int
    announcement_id: Id | None = None


class CacheSubsidyChanged(Envelope, tag="admin.cache_subsidy_changed", frozen=True, kw_only=True):
    """``/set_cache_subsidy on|off``: whether the bot pays its users' prompt-cache writes.

    ``subsidized``: from ``occurred_at`` on, a usage charge's cache-write tokens are priced
    and then credited back in the same charge (users pay no cache writes); ``False``: users
    pay them at the price table's rates (the default)."""

    v: Literal[1] = 1
    subsidized: bool
    previous_subsidized: bool | None = None
    admin_user_id: int
