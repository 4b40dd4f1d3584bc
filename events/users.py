"""Users: commands (topic ``bot.users.commands``) and events (``bot.users.events``), key user id.

A user's registration and settings have one decider (the users actor), so registering twice
is a no-op and the starter credit is requested exactly once (operation id
``starter:{user_id}``). Settings here are user-wide defaults; a thread may override them
(``thread.settings_override_requested``).
"""

from __future__ import annotations

from typing import Literal

from events.envelope import Envelope
from events.messages import TelegramUser
from events.usage import ModelId

# --------------------------------------------------------------------------- commands


class RegistrationRequested(
    Envelope, tag="users.registration_requested", frozen=True, kw_only=True
):
    """The gateway saw a user: register them if new, else refresh their profile."""

    v: Literal[1] = 1
    profile: TelegramUser
    chat_id: int | None = None


class ModelChangeRequested(Envelope, tag="users.model_change_requested", frozen=True, kw_only=True):
    """``/model``: the user chose a default Claude model."""

    v: Literal[1] = 1
    user_id: int
    model: ModelId


class PersonalityChangeRequested(
    Envelope, tag="users.personality_change_requested", frozen=True, kw_only=True
):
    """The user set a custom personality (system prompt); ``None`` restores the default."""

    v: Literal[1] = 1
    user_id: int
    personality: str | None = None


class ThinkingChangeRequested(
    Envelope, tag="users.thinking_change_requested", frozen=True, kw_only=True
):
    """``/thinking``: how hard the model thinks (``off``, ``low``, ``medium``, ``high``,
    ``max``; see ``actors.thread.thinking``)."""

    v: Literal[1] = 1
    user_id: int
    level: str


class LanguageChangeRequested(
    Envelope, tag="users.language_change_requested", frozen=True, kw_only=True
):
    """``/language``: the language the bot speaks to the user (``en``, ``ru``; see
    ``actors.texts``), overriding their Telegram language."""

    v: Literal[1] = 1
    user_id: int
    language: str


# --------------------------------------------------------------------------- events


class UserRegistered(Envelope, tag="users.registered", frozen=True, kw_only=True):
    """A new user; the starter credit follows in ``bot.billing.ledger``."""

    v: Literal[1] = 1
    profile: TelegramUser
    default_model: ModelId


class ProfileUpdated(Envelope, tag="users.profile_updated", frozen=True, kw_only=True):
    """The user's Telegram profile (name, @username, language) changed."""

    v: Literal[1] = 1
    profile: TelegramUser


class ModelChanged(Envelope, tag="users.model_changed", frozen=True, kw_only=True):
    """The user's default model changed."""

    v: Literal[1] = 1
    user_id: int
    model: ModelId
    previous_model: ModelId | None = None


class PersonalityChanged(Envelope, tag="users.personality_changed", frozen=True, kw_only=True):
    """The user's personality changed; ``None`` means the default system prompt."""

    v: Literal[1] = 1
    user_id: int
    personality: str | None = None


class ThinkingChanged(Envelope, tag="users.thinking_changed", frozen=True, kw_only=True):
    """The user's thinking level changed."""

    v: Literal[1] = 1
    user_id: int
    level: str
    previous_level: str | None = None


class LanguageChanged(Envelope, tag="users.language_changed", frozen=True, kw_only=True):
    """The user chose the language the bot speaks to them (``en``, ``ru``)."""

    v: Literal[1] = 1
    user_id: int
    language: str
    previous_language: str | None = None
