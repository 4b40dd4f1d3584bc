"""The thread actor's pure decisions and its fold."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from thread_builders import USER, photo, stop, user_message

from actors.thread.decide import (
    MAX_CONCURRENT_GENERATIONS,
    Facts,
    decide,
    decide_messages,
    preemption,
)
from actors.thread.errors import ModelFailure, classify
from actors.thread.evolve import evolve, evolve_all
from actors.thread.models import HAIKU, OPUS, SONNET
from actors.thread.outcomes import (
    assistant_completed,
    turn_cancelled,
    turn_completed,
    turn_failed,
    usage_charge,
)
from actors.thread.state import (
    MAX_PROCESSED_IDS,
    ThreadState,
    decode_state,
    encode_state,
    initial_state,
)
from events.envelope import new_envelope
from events.messages import Attachment
from events.thread import (
    SettingsOverrideRequested,
    ThreadOpened,
    TurnStarted,
    UserMessageAccepted,
    UserMessageRejected,
)
from events.usage import Usage

FUNDED = Facts(balance=Decimal("1.00"))


def started_state(text: str = "hello") -> tuple[ThreadState, TurnStarted]:
    cmd = user_message(text)
    decision = decide_messages(initial_state(cmd.key), [cmd], FUNDED)
    assert decision.start is not None
    return evolve_all(initial_state(cmd.key), decision.events), decision.start


def test_first_message_opens_the_thread_accepts_and_starts_a_turn() -> None:
    """A first message: thread opened, message accepted, turn started on the default model."""
    cmd = user_message("hi")
    decision = decide(initial_state(cmd.key), cmd, FUNDED)
    kinds = [type(e) for e in decision.events]
    assert kinds == [ThreadOpened, UserMessageAccepted, TurnStarted]
    assert decision.start is not None
    assert decision.start.model == SONNET
    assert decision.start.input_message_ids == (1,)


def test_the_same_command_decides_the_same_ids() -> None:
    """Deciding a redelivered command again yields the same event ids (idempotent retries)."""
    cmd = user_message("hi")
    first = decide(initial_state(cmd.key), cmd, FUNDED)
    again = decide(initial_state(cmd.key), cmd, FUNDED)
    assert [e.id for e in first.events] == [e.id for e in again.events]


def test_a_processed_command_decides_nothing() -> None:
    """Once its id is in the processed set, a command is a no-op."""
    cmd = user_message("hi")
    state = initial_state(cmd.key).mark_processed(cmd.id)
    assert decide(state, cmd, FUNDED).events == []


def test_processed_ids_are_bounded() -> None:
    """The processed set keeps only the newest ids."""
    state = initial_state("1:0")
    for i in range(MAX_PROCESSED_IDS + 10):
        state = state.mark_processed(f"{i:036d}")
    assert len(state.processed) == MAX_PROCESSED_IDS
    assert state.has_processed(f"{MAX_PROCESSED_IDS + 9:036d}")


def test_zero_balance_rejects_with_the_pay_hint() -> None:
    """Balance <= 0: the message is rejected and the user told to /pay."""
    cmd = user_message("hi")
    decision = decide(initial_state(cmd.key), cmd, Facts(balance=Decimal("-0.01")))
    rejected = [e for e in decision.events if isinstance(e, UserMessageRejected)]
    assert [r.reason for r in rejected] == ["insufficient_balance"]
    assert decision.start is None
    assert "/pay" in decision.notices[0].text
    assert decision.notices[0].refusal_to_user == cmd.message.sender.user_id


def test_sixth_concurrent_generation_is_refused() -> None:
    """With 5 generations running for the user, a sixth gets a clear 'too many' reply."""
    cmd = user_message("hi")
    facts = Facts(balance=Decimal(1), other_running=MAX_CONCURRENT_GENERATIONS)
    decision = decide(initial_state(cmd.key), cmd, facts)
    assert decision.start is None
    assert [e.reason for e in decision.events if isinstance(e, UserMessageRejected)] == [
        "concurrency_limit"
    ]
    assert "5" in decision.notices[0].text


def test_a_voice_message_alone_starts_a_turn() -> None:
    """A voice message without text is an input (transcribed before the turn)."""
    voice = Attachment(kind="voice", file_id="v", file_unique_id="vu", duration_seconds=3)
    cmd = user_message("", attachments=(voice,))
    decision = decide(initial_state(cmd.key), cmd, FUNDED)
    assert decision.start is not None
    assert not decision.notices


def test_unsupported_input_gets_a_clear_reply() -> None:
    """A program file alone is refused with a reason, never silence."""
    exe = Attachment(kind="document", file_id="e", file_unique_id="eu", file_name="setup.exe")
    cmd = user_message("", attachments=(exe,))
    decision = decide(initial_state(cmd.key), cmd, FUNDED)
    assert decision.start is None
    assert decision.notices
    assert "program files" in decision.notices[0].text


def test_oversized_file_is_refused() -> None:
    """A 30 MB document is refused with the 20 MB limit named."""
    big = Attachment(kind="document", file_id="d", file_unique_id="du", file_size=30 * 1024 * 1024)
    cmd = user_message("", attachments=(big,))
    decision = decide(initial_state(cmd.key), cmd, FUNDED)
    assert decision.start is None
    assert "20 MB" in decision.notices[0].text


def test_album_is_one_turn() -> None:
    """Three photos of one media group start a single turn over all three messages."""
    cmds = [
        user_message(
            "" if i else "look",
            message_id=10 + i,
            attachments=(photo(f"p{i}"),),
            media_group_id="g1",
        )
        for i in range(3)
    ]
    decision = decide_messages(initial_state(cmds[0].key), cmds, FUNDED)
    assert decision.start is not None
    assert decision.start.input_message_ids == (10, 11, 12)
    assert sum(isinstance(e, UserMessageAccepted) for e in decision.events) == 3


def test_preemption_reasons() -> None:
    """A new message supersedes, /stop stops; nothing is cancelled when idle."""
    state, _ = started_state()
    assert preemption(state, user_message("again", message_id=2)) == "superseded"
    assert preemption(state, stop()) == "stop_command"
    assert preemption(initial_state(state.key), stop()) is None


def test_stop_without_a_running_turn_says_so() -> None:
    """/stop when idle replies that nothing is running."""
    decision = decide(initial_state("4242:0"), stop(), FUNDED)
    assert decision.events == []
    assert decision.notices


def test_thread_override_beats_the_user_default() -> None:
    """A per-thread model override wins over the user's default model."""
    cmd = user_message("hi")
    override = SettingsOverrideRequested(
        **new_envelope(key=cmd.key, producer="gateway"), user_id=USER, model=OPUS
    )
    state = evolve_all(
        initial_state(cmd.key), decide(initial_state(cmd.key), override, FUNDED).events
    )
    decision = decide(state, cmd, Facts(balance=Decimal(1), user_model=HAIKU))
    assert decision.start is not None
    assert decision.start.model == OPUS


def test_turn_lifecycle_fold() -> None:
    """Started -> step completed -> turn completed: history has both sides, no running turn."""
    state, _started = started_state("question")
    assert state.running is not None
    running = state.running
    step = assistant_completed(
        running,
        step=1,
        model=SONNET,
        api_message_id="msg_1",
        text="answer",
        stop_reason="end_turn",
        usage=Usage(input_tokens=10, output_tokens=5),
    )
    state = evolve(state, step)
    assert state.running is not None
    assert state.running.steps == 1
    state = evolve(state, turn_completed(state.running, (7,)))
    assert state.running is None
    assert [(h.role, h.text) for h in state.history] == [
        ("user", "question"),
        ("assistant", "answer"),
    ]


def test_cancel_keeps_the_partial_answer_in_history() -> None:
    """A cancelled turn's partial text joins the history, so the next turn sees it."""
    state, _ = started_state()
    assert state.running is not None
    cancelled = turn_cancelled(
        state.running,
        reason="stop_command",
        partial_usage=Usage(output_tokens=3),
        partial_text="partial",
    )
    state = evolve(state, cancelled)
    assert state.running is None
    assert state.history[-1].text == "partial"


def test_usage_reports_carry_operation_ids_from_their_event() -> None:
    """Billing operation ids are usage:{event id}; zero usage reports nothing."""
    state, _ = started_state()
    assert state.running is not None
    failed = turn_failed(
        state.running,
        classify(ModelFailure("stream_broken", streamed=True)),
        partial_usage=Usage(input_tokens=5, output_tokens=2),
    )
    charge = usage_charge(failed, user_id=USER, turn_id=failed.turn_id)
    assert charge is not None
    assert charge.operation_id == f"usage:{failed.id}"
    assert charge.source == "failed_call"
    assert charge.key == str(USER)
    nothing = turn_failed(
        state.running, classify(ModelFailure("overloaded")), partial_usage=Usage()
    )
    assert usage_charge(nothing, user_id=USER, turn_id=nothing.turn_id) is None
    again = turn_failed(
        state.running,
        classify(ModelFailure("stream_broken", streamed=True)),
        partial_usage=Usage(input_tokens=5, output_tokens=2),
    )
    assert again.id == failed.id


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=12))
def test_state_roundtrips_through_its_encoding(texts: list[str]) -> None:
    """The table value encodes and decodes to the same state after any conversation."""
    state = initial_state("4242:0")
    for i, text in enumerate(texts):
        cmd = user_message(text, message_id=i + 1)
        decision = decide_messages(state, [cmd], FUNDED)
        state = evolve_all(state, decision.events).mark_processed(cmd.id)
        if state.running is not None:
            state = evolve(state, turn_completed(state.running, ()))
    assert decode_state(encode_state(state)) == state
    assert state.running is None


def test_an_edit_of_an_accepted_message_changes_the_history() -> None:
    """Editing a message the thread accepted replaces its text in the history."""
    from datetime import UTC, datetime

    from events.thread import UserMessageEdited, UserMessageEditReceived

    state, _ = started_state("typo")
    edit_of = user_message("fixed", message_id=1)
    edit = UserMessageEditReceived(
        **new_envelope(key=state.key, producer="gateway"),
        message=edit_of.message,
        edited_at=datetime.now(UTC),
    )
    decision = decide(state, edit, FUNDED)
    assert [type(e) for e in decision.events] == [UserMessageEdited]
    assert evolve_all(state, decision.events).history[0].text == "fixed"
    unknown = UserMessageEditReceived(
        **new_envelope(key=state.key, producer="gateway"),
        message=user_message("x", message_id=99).message,
        edited_at=datetime.now(UTC),
    )
    assert decide(state, unknown, FUNDED).events == []
