"""Decide and evolve for one user (key: user id).

State is the fold of the user's own ``bot.users.events``. A command is decided against it:
registering an already registered user only refreshes a changed profile; setting the model
or personality it already has writes nothing. Output ids derive from the command id, so a
command redelivered after a crash yields the same records again (duplicates downstream).

Registration also asks billing for the starter credit (operation id ``starter:{user_id}``,
idempotent in the ledger). The shell writes :attr:`Decision.billing` *before*
:attr:`Decision.events`: the events are the actor's state, so if it dies between the two
writes the command is decided again on redelivery (the user is still unregistered) and
billing sees the same operation id twice, which it ignores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import msgspec

from actors.billing import operations
from actors.texts import parse_language
from actors.thread.models import DEFAULT_MODEL, KNOWN_MODELS
from actors.thread.thinking import DEFAULT_THINKING, parse_level
from events.billing import StarterCreditRequested
from events.catalog import BillingCommand, UserCommand, UserEvent
from events.envelope import caused_by
from events.keys import user_key
from events.messages import TelegramUser
from events.usage import ModelId
from events.users import (
    LanguageChanged,
    LanguageChangeRequested,
    ModelChanged,
    ModelChangeRequested,
    PersonalityChanged,
    ProfileUpdated,
    RegistrationRequested,
    ThinkingChanged,
    ThinkingChangeRequested,
    UserRegistered,
)

PRODUCER: Final = "users-actor"


class UserState(msgspec.Struct, frozen=True, kw_only=True):
    """What the actor knows about one user."""

    user_id: int
    registered: bool = False
    profile: TelegramUser | None = None
    model: ModelId = DEFAULT_MODEL
    personality: str | None = None
    thinking: str | None = None
    language: str | None = None
    """Chosen with ``/language``; None: the user's Telegram language."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Records to write: billing commands first, then the user's own events."""

    events: list[UserEvent] = field(default_factory=list)
    billing: list[BillingCommand] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.events and not self.billing


def command_user_id(command: UserCommand) -> int:
    if isinstance(command, RegistrationRequested):
        return command.profile.user_id
    return command.user_id


def initial(user_id: int, default_model: ModelId = DEFAULT_MODEL) -> UserState:
    """A user the actor has not seen: on ``default_model`` (the operator's setting)."""
    return UserState(user_id=user_id, model=default_model)


def decide(state: UserState, command: UserCommand) -> Decision:
    if isinstance(command, RegistrationRequested):
        return _register(state, command)
    if isinstance(command, ModelChangeRequested):
        if command.model not in KNOWN_MODELS or command.model == state.model:
            return Decision()
        return Decision(
            events=[
                ModelChanged(
                    **caused_by(command, producer=PRODUCER, label="model_changed"),
                    user_id=state.user_id,
                    model=command.model,
                    previous_model=state.model,
                )
            ]
        )
    if isinstance(command, ThinkingChangeRequested):
        return _thinking(state, command)
    if isinstance(command, LanguageChangeRequested):
        return _language(state, command)
    if command.personality == state.personality:
        return Decision()
    return Decision(
        events=[
            PersonalityChanged(
                **caused_by(command, producer=PRODUCER, label="personality_changed"),
                user_id=state.user_id,
                personality=command.personality,
            )
        ]
    )


def _thinking(state: UserState, command: ThinkingChangeRequested) -> Decision:
    level = parse_level(command.level)
    if level is None or level == (state.thinking or DEFAULT_THINKING):
        return Decision()
    changed = ThinkingChanged(
        **caused_by(command, producer=PRODUCER, label="thinking_changed"),
        user_id=state.user_id,
        level=level,
        previous_level=state.thinking,
    )
    return Decision(events=[changed])


def _language(state: UserState, command: LanguageChangeRequested) -> Decision:
    language = parse_language(command.language)
    if language is None or language == state.language:
        return Decision()
    changed = LanguageChanged(
        **caused_by(command, producer=PRODUCER, label="language_changed"),
        user_id=state.user_id,
        language=language,
        previous_language=state.language,
    )
    return Decision(events=[changed])


def _register(state: UserState, command: RegistrationRequested) -> Decision:
    profile = command.profile
    if state.registered:
        if state.profile == profile:
            return Decision()
        return Decision(
            events=[
                ProfileUpdated(
                    **caused_by(command, producer=PRODUCER, label="profile_updated"),
                    profile=profile,
                )
            ]
        )
    registered = UserRegistered(
        **caused_by(command, producer=PRODUCER, label="registered"),
        profile=profile,
        default_model=state.model,  # the operator's default unless chosen before registering
    )
    starter = StarterCreditRequested(
        **caused_by(
            command, producer=PRODUCER, key=user_key(profile.user_id), label="starter_credit"
        ),
        operation_id=operations.starter(profile.user_id),
        user_id=profile.user_id,
    )
    return Decision(events=[registered], billing=[starter])


def evolve(state: UserState, event: UserEvent) -> UserState:
    if isinstance(event, UserRegistered):
        return msgspec.structs.replace(
            state, registered=True, profile=event.profile, model=event.default_model
        )
    if isinstance(event, ProfileUpdated):
        return msgspec.structs.replace(state, registered=True, profile=event.profile)
    if isinstance(event, ModelChanged):
        return msgspec.structs.replace(state, model=event.model)
    if isinstance(event, ThinkingChanged):
        return msgspec.structs.replace(state, thinking=event.level)
    if isinstance(event, LanguageChanged):
        return msgspec.structs.replace(state, language=event.language)
    return msgspec.structs.replace(state, personality=event.personality)


def event_user_id(event: UserEvent) -> int:
    if isinstance(event, UserRegistered | ProfileUpdated):
        return event.profile.user_id
    return event.user_id


class UsersState:
    """Many users' states (one partition's worth), folded from their events."""

    __slots__ = ("_default_model", "_users")

    def __init__(self, default_model: ModelId = DEFAULT_MODEL) -> None:
        self._users: dict[int, UserState] = {}
        self._default_model = default_model

    def get(self, user_id: int) -> UserState:
        return self._users.get(user_id) or initial(user_id, self._default_model)

    def apply(self, event: UserEvent) -> None:
        uid = event_user_id(event)
        self._users[uid] = evolve(self.get(uid), event)

    def __len__(self) -> int:
        return len(self._users)

    def __contains__(self, user_id: int) -> bool:
        return user_id in self._users
