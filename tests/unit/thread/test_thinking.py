"""Thinking levels: what each means per model, the user's setting, and how thinking is billed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from thread_builders import user_message

from actors.billing.pricing import price
from actors.thread.context import build_request
from actors.thread.decide import Facts, decide_messages
from actors.thread.evolve import evolve_all
from actors.thread.models import HAIKU, OPUS, SONNET
from actors.thread.state import ThreadState
from actors.thread.thinking import (
    INTERLEAVED_BETA,
    THINKING_LEVELS,
    offers_thinking_tool,
    parse_level,
    plan_thinking,
)
from actors.users.decide import decide, evolve, initial
from events.envelope import new_envelope
from events.usage import Usage
from events.users import ThinkingChanged, ThinkingChangeRequested


def test_adaptive_models_get_adaptive_thinking_with_the_effort() -> None:
    """Sonnet/Opus 4.6: thinking type adaptive, output_config.effort = the level, no beta."""
    plan = plan_thinking(SONNET, "medium")
    assert plan.params == {"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}}
    assert plan.adaptive
    assert plan.budget_tokens is None
    assert plan.betas(with_tools=True) == ()
    assert plan_thinking(OPUS, "max").params["output_config"] == {"effort": "max"}
    assert plan_thinking(OPUS, "max").max_tokens == 64_000


def test_haiku_gets_a_budget_and_the_interleaved_beta_with_tools() -> None:
    """Haiku 4.5 has no adaptive thinking: a budget per level, max_tokens above it."""
    plan = plan_thinking(HAIKU, "high")
    assert plan.params == {"thinking": {"type": "enabled", "budget_tokens": 16_000}}
    assert plan.max_tokens > 16_000
    assert plan.betas(with_tools=True) == (INTERLEAVED_BETA,)
    assert plan.betas(with_tools=False) == ()
    assert offers_thinking_tool(HAIKU)
    assert not offers_thinking_tool(SONNET)


def test_off_and_unknown_levels_send_no_thinking() -> None:
    """``off``, None or garbage: no thinking fields and the plain answer budget."""
    for level in ("off", None, "extreme"):
        plan = plan_thinking(SONNET, level)
        assert not plan.enabled
        assert plan.params == {}
        assert plan.max_tokens == 8_192


def test_max_tokens_leaves_room_for_history() -> None:
    """Even at ``max`` the request keeps most of the window for the conversation."""
    for model in (HAIKU, SONNET, OPUS):
        assert plan_thinking(model, "max").max_tokens <= 64_000


@given(st.text(max_size=20))
def test_parse_level_accepts_only_the_levels(text: str) -> None:
    """Any text parses to one of the five levels or to None, never to something else."""
    assert parse_level(text) in (*THINKING_LEVELS, None)


@given(st.sampled_from(THINKING_LEVELS), st.sampled_from(["", " ", "\t"]), st.booleans())
def test_parse_level_ignores_case_and_spaces(level: str, pad: str, upper: bool) -> None:
    """``/thinking  HIGH `` means high."""
    text = pad + (level.upper() if upper else level) + pad
    assert parse_level(text) == level


def test_the_users_level_reaches_the_turn_and_its_request() -> None:
    """Facts.thinking_level -> TurnStarted.thinking_level -> adaptive thinking in the request."""
    command = user_message("think hard")
    decision = decide_messages(
        ThreadState(key=command.key), [command], Facts(balance=Decimal(1), thinking_level="high")
    )
    assert decision.start is not None
    assert decision.start.thinking_level == "high"
    assert decision.start.max_output_tokens == 32_000
    state = evolve_all(ThreadState(key=command.key), decision.events)
    request = build_request(
        state,
        model=decision.start.model,
        personality=None,
        thinking_level=decision.start.thinking_level,
    )
    assert request.kwargs["thinking"] == {"type": "adaptive"}
    assert request.kwargs["output_config"] == {"effort": "high"}
    assert request.kwargs["max_tokens"] == 32_000
    assert request.thinking


def test_no_level_keeps_requests_without_thinking() -> None:
    """A user who never chose a level gets no thinking (the default is off)."""
    command = user_message("quick one")
    decision = decide_messages(ThreadState(key=command.key), [command], Facts(balance=Decimal(1)))
    assert decision.start is not None
    assert decision.start.thinking_level is None


def _thinking_command(level: str) -> ThinkingChangeRequested:
    return ThinkingChangeRequested(
        **new_envelope(key="42", producer="gateway"), user_id=42, level=level
    )


def test_users_actor_records_a_level_change_once() -> None:
    """/thinking high -> ThinkingChanged; the same level again or a bad one -> nothing."""
    state = initial(42)
    decision = decide(state, _thinking_command("high"))
    [event] = decision.events
    assert isinstance(event, ThinkingChanged)
    assert event.level == "high"
    state = evolve(state, event)
    assert state.thinking == "high"
    assert decide(state, _thinking_command("HIGH")).empty
    assert decide(state, _thinking_command("huge")).empty
    assert decide(initial(42), _thinking_command("off")).empty  # off is the default


def test_thinking_tokens_are_billed_as_output_once() -> None:
    """The API counts thinking inside output_tokens: priced as output, never added again."""
    usage = Usage(input_tokens=1000, output_tokens=5000, thinking_tokens=4000)
    priced = price(at=datetime(2026, 6, 1, tzinfo=UTC), model=SONNET, usage=usage)
    items = {line.item: line for line in priced.lines}
    assert set(items) == {f"{SONNET}/input_tokens", f"{SONNET}/output_tokens"}
    assert items[f"{SONNET}/output_tokens"].quantity == 5000
    assert priced.total == Decimal("0.003") + Decimal("0.075")
