"""/language in the users actor: a choice is an event once, an unknown language is ignored,
and the fold keeps the choice across replays."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from actors.users.decide import UsersState, decide, evolve, initial
from events.envelope import new_envelope
from events.users import LanguageChanged, LanguageChangeRequested

AT = datetime(2026, 1, 1, tzinfo=UTC)
UID = 43


def choose(language: str) -> LanguageChangeRequested:
    return LanguageChangeRequested(
        **new_envelope(key=str(UID), producer="gateway", occurred_at=AT),
        user_id=UID,
        language=language,
    )


def test_a_language_choice_becomes_an_event_once() -> None:
    """Choosing Russian records users.language_changed; choosing it again records nothing."""
    state = initial(UID)
    decision = decide(state, choose("ru"))
    (event,) = decision.events
    assert isinstance(event, LanguageChanged)
    assert (event.language, event.previous_language) == ("ru", None)
    state = evolve(state, event)
    assert state.language == "ru"
    assert decide(state, choose("ru")).empty
    (back,) = decide(state, choose("en")).events
    assert isinstance(back, LanguageChanged)
    assert (back.language, back.previous_language) == ("en", "ru")


@given(st.text(max_size=6).filter(lambda t: t not in ("en", "ru")))
def test_a_language_the_bot_does_not_speak_is_ignored(language: str) -> None:
    """A command naming another language (a forged record) writes nothing."""
    assert decide(initial(UID), choose(language)).empty


def test_the_choice_survives_a_replay() -> None:
    """Folding the user's events again gives the same language."""
    first = UsersState()
    (event,) = decide(first.get(UID), choose("ru")).events
    first.apply(event)
    replayed = UsersState()
    replayed.apply(event)
    assert first.get(UID).language == replayed.get(UID).language == "ru"
