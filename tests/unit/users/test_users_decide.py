"""The users actor's decisions: registration once, starter credit once, settings idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from actors.billing import operations
from actors.thread.models import HAIKU, KNOWN_MODELS, OPUS
from actors.users.decide import (
    DEFAULT_MODEL,
    UsersState,
    decide,
    initial,
)
from events.billing import StarterCreditRequested
from events.catalog import UserCommand
from events.envelope import new_envelope
from events.messages import TelegramUser
from events.users import (
    ModelChanged,
    ModelChangeRequested,
    PersonalityChanged,
    PersonalityChangeRequested,
    ProfileUpdated,
    RegistrationRequested,
    UserRegistered,
)

AT = datetime(2026, 1, 1, tzinfo=UTC)
UID = 42


def register(first_name: str = "Ada") -> RegistrationRequested:
    return RegistrationRequested(
        **new_envelope(key=str(UID), producer="gateway", occurred_at=AT),
        profile=TelegramUser(user_id=UID, first_name=first_name),
        chat_id=UID,
    )


def model(m: str) -> ModelChangeRequested:
    return ModelChangeRequested(
        **new_envelope(key=str(UID), producer="gateway", occurred_at=AT), user_id=UID, model=m
    )


def personality(p: str | None) -> PersonalityChangeRequested:
    return PersonalityChangeRequested(
        **new_envelope(key=str(UID), producer="gateway", occurred_at=AT),
        user_id=UID,
        personality=p,
    )


def test_first_registration_registers_and_requests_starter_credit() -> None:
    """A new user is registered with the default model and gets one starter credit request."""
    cmd = register()
    d = decide(initial(UID), cmd)
    (event,) = d.events
    (credit,) = d.billing
    assert isinstance(event, UserRegistered)
    assert event.default_model == DEFAULT_MODEL
    assert event.causation_id == cmd.id
    assert isinstance(credit, StarterCreditRequested)
    assert credit.operation_id == operations.starter(UID) == f"starter:{UID}"
    assert credit.key == str(UID)


def test_decisions_are_deterministic_for_a_redelivered_command() -> None:
    """The same command decided twice from the same state yields the same record ids."""
    cmd = register()
    a, b = decide(initial(UID), cmd), decide(initial(UID), cmd)
    assert [e.id for e in a.events] == [e.id for e in b.events]
    assert [c.id for c in a.billing] == [c.id for c in b.billing]


def test_registered_user_only_gets_profile_updates() -> None:
    """Registering again is a no-op; a changed name becomes ProfileUpdated, no new credit."""
    state = UsersState()
    for e in decide(state.get(UID), register()).events:
        state.apply(e)
    assert decide(state.get(UID), register()).empty
    d = decide(state.get(UID), register("Augusta"))
    assert [type(e) for e in d.events] == [ProfileUpdated]
    assert d.billing == []


def test_model_and_personality_changes() -> None:
    """Changes write events with the previous model; repeating the current value writes nothing;
    an unknown model is ignored."""
    state = UsersState()
    for cmd in (register(), model(OPUS)):
        for e in decide(state.get(UID), cmd).events:
            state.apply(e)
    assert state.get(UID).model == OPUS
    assert decide(state.get(UID), model(OPUS)).empty
    assert decide(state.get(UID), model("gpt-5")).empty
    (changed,) = decide(state.get(UID), model(HAIKU)).events
    assert isinstance(changed, ModelChanged)
    assert changed.previous_model == OPUS
    (p,) = decide(state.get(UID), personality("pirate")).events
    assert isinstance(p, PersonalityChanged)
    state.apply(p)
    assert decide(state.get(UID), personality("pirate")).empty
    (reset,) = decide(state.get(UID), personality(None)).events
    assert isinstance(reset, PersonalityChanged)
    assert reset.personality is None


COMMANDS = st.one_of(
    st.sampled_from(["Ada", "Augusta"]).map(register),
    st.sampled_from([*KNOWN_MODELS, "unknown"]).map(model),
    st.sampled_from([None, "a", "b"]).map(personality),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(COMMANDS, max_size=25), st.data())
def test_registration_and_credit_happen_once_whatever_is_redelivered(
    commands: list[UserCommand], data: st.DataObject
) -> None:
    """Under any command sequence with arbitrary redeliveries, the user is registered at most
    once, the starter credit requested at most once (exactly once if a registration came),
    and the folded state equals the last requested settings."""
    state = UsersState()
    registered = credits = 0
    delivered: list[UserCommand] = []
    for cmd in commands:
        delivered.append(cmd)
        if delivered and data.draw(st.booleans()):  # type: ignore[arg-type]
            delivered.append(data.draw(st.sampled_from(delivered)))
    for cmd in delivered:
        d = decide(state.get(UID), cmd)
        credits += len(d.billing)
        for e in d.events:
            registered += isinstance(e, UserRegistered)
            state.apply(e)
    any_registration = any(isinstance(c, RegistrationRequested) for c in commands)
    assert registered == credits == (1 if any_registration else 0)
    models = [c.model for c in delivered if isinstance(c, ModelChangeRequested)]
    valid = [m for m in models if m in KNOWN_MODELS]
    if valid:
        assert state.get(UID).model == valid[-1]
    people = [c for c in delivered if isinstance(c, PersonalityChangeRequested)]
    if people:
        assert state.get(UID).personality == people[-1].personality
