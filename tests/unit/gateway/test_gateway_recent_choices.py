"""Read-your-writes over the users read model: a fresh choice shows until the model has it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infra.gateway.user_settings import RecentChoices, UserSettings

USER = 7


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ReadModel:
    """A settable stand-in for the users read model (the port's contract: None if unknown)."""

    def __init__(self) -> None:
        self.rows: dict[int, UserSettings] = {}

    async def user_settings(self, user_id: int) -> UserSettings | None:
        return self.rows.get(user_id)

    def set(self, model: str | None, personality: str | None = None) -> None:
        self.rows[USER] = UserSettings(USER, model, personality)


async def test_read_model_answers_when_nothing_was_chosen_here() -> None:
    """Without a choice in this process, the read model's answer (or None) is shown as is."""
    model = ReadModel()
    view = RecentChoices(model)
    assert await view.user_settings(USER) is None
    model.set("sonnet", "pirate")
    assert await view.user_settings(USER) == UserSettings(USER, "sonnet", "pirate")


async def test_choice_shows_until_the_read_model_agrees() -> None:
    """A just-chosen model shows over a lagging read model, then the read model takes over."""
    model, clock = ReadModel(), Clock()
    view = RecentChoices(model, ttl=30, clock=clock)
    model.set("opus", "pirate")
    view.chose_model(USER, "haiku")
    assert await view.user_settings(USER) == UserSettings(USER, "haiku", "pirate")
    model.set("haiku", "pirate")
    assert await view.user_settings(USER) == UserSettings(USER, "haiku", "pirate")
    assert len(view) == 0
    model.set("sonnet", "pirate")  # a later change made elsewhere shows at once
    assert await view.user_settings(USER) == UserSettings(USER, "sonnet", "pirate")


async def test_choice_for_an_unknown_user_and_a_reset_personality() -> None:
    """Choices show for a user the read model has not seen; a reset shows as no personality."""
    model = ReadModel()
    view = RecentChoices(model)
    view.chose_personality(USER, "pirate")
    assert await view.user_settings(USER) == UserSettings(USER, None, "pirate")
    model.set("sonnet", "pirate")
    view.chose_personality(USER, None)
    assert await view.user_settings(USER) == UserSettings(USER, "sonnet", None)


async def test_choice_expires_after_the_ttl() -> None:
    """A choice the read model never confirms stops hiding it after the TTL."""
    model, clock = ReadModel(), Clock()
    view = RecentChoices(model, ttl=30, clock=clock)
    model.set("opus")
    view.chose_model(USER, "haiku")
    clock.now = 29.9
    assert (await view.user_settings(USER) or UserSettings(USER, None, None)).default_model == (
        "haiku"
    )
    clock.now = 30.0
    assert await view.user_settings(USER) == UserSettings(USER, "opus", None)
    assert len(view) == 0


def test_memory_is_bounded() -> None:
    """Only the most recent users' choices are kept."""
    view = RecentChoices(ReadModel(), capacity=3)
    for uid in range(10):
        view.chose_model(uid, "haiku")
    assert len(view) == 3


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["choose", "project", "tick"]),
            st.sampled_from(["haiku", "sonnet", "opus"]),
        ),
        max_size=30,
    )
)
async def test_shown_model_is_the_latest_choice_or_the_read_model(
    steps: list[tuple[str, str]],
) -> None:
    """Whatever the interleaving, the model shown is the last one chosen here while it is
    fresh and unconfirmed, else the read model's."""
    model, clock = ReadModel(), Clock()
    view = RecentChoices(model, ttl=10, clock=clock)
    model.set("sonnet")
    last: tuple[str, float] | None = None
    for action, name in steps:
        if action == "choose":
            view.chose_model(USER, name)
            last = (name, clock.now + 10)
        elif action == "project":
            model.set(name)
        else:
            clock.now += 4
        shown = await view.user_settings(USER)
        assert shown is not None
        stored = model.rows[USER].default_model
        if last is not None and (last[0] == stored or clock.now >= last[1]):
            last = None
        assert shown.default_model == (last[0] if last else stored)
