"""The final answer is recorded as a frame around the turn's text: the message rebuilt from it
is the message sent, and a long answer still fits one state record."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from thread_builders import user_message

from actors.thread.answer_frame import NO_ANSWER, answer_frame, framed
from actors.thread.decide import Facts, decide_messages
from actors.thread.evolve import evolve_all
from actors.thread.outcomes import assistant_completed
from actors.thread.progress import TurnTrace
from actors.thread.state import initial_state
from events.catalog import THREAD_EVENTS
from events.codec import codec_for
from events.usage import Usage
from infra.threads.state_log import MAX_VALUE_BYTES, encode_snapshot
from infra.threads.store_port import OutboxRecord, StoredThread

SEARCH_CALL = {
    "type": "server_tool_use",
    "id": "srvtoolu_1",
    "name": "web_search",
    "input": {"query": "kafka"},
}
SEARCH_RESULT = {
    "type": "web_search_tool_result",
    "tool_use_id": "srvtoolu_1",
    "content": [
        {"type": "web_search_result", "url": "https://kafka.apache.org/docs", "title": "Docs"}
    ],
}


@given(
    text=st.text(max_size=40),
    note=st.text(max_size=20),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_the_message_rebuilt_from_the_frame_is_the_message_sent(
    text: str, note: str, before: str, after: str
) -> None:
    """Whatever the turn's text (blank, padded) and whatever surrounds it (a note after it, a
    trace line before, sources after), the frame and the text give back the same message."""
    parts = (before, (text + note).strip(), after)
    sent = "".join(parts)
    assert framed(text, answer_frame(parts, text)) == (sent if sent.strip() else NO_ANSWER)


def test_a_trace_line_and_sources_are_kept_around_the_text() -> None:
    """A turn that thought and searched: the frame holds the trace line and the sources, and
    the rebuilt message is the one the trace renders."""
    trace = TurnTrace()
    trace.add_thinking("hmm")
    trace.blocks([SEARCH_CALL, SEARCH_RESULT])
    text = "\nKafka keeps the log. "
    full = text + "\n\n(cut at 100 tokens)"
    frame = answer_frame(trace.final_parts(full), text)
    assert frame.before.startswith("_🧠 thought · 🔍 searched the web_")
    assert "https://kafka.apache.org/docs" in frame.after
    assert "Kafka keeps the log" not in frame.before + frame.after
    assert framed(text, frame) == trace.final_markdown(full)


def test_the_final_record_of_a_64k_token_answer_fits_one_state_record() -> None:
    """The longest answer a turn can give (64k output tokens, about 256 KB of English) is
    recorded with its frame, not a second copy of its text: the thread's state with the
    pending event stays under the broker's limit and keeps the answer in its history."""
    cmd = user_message("write it all")
    decision = decide_messages(initial_state(cmd.key), [cmd], Facts(balance=Decimal("10")))
    assert decision.start is not None
    state = evolve_all(initial_state(cmd.key), decision.events)
    assert state.running is not None
    text = "word " * 52_000
    trace = TurnTrace()
    trace.blocks([SEARCH_CALL, SEARCH_RESULT])
    event = assistant_completed(
        state.running,
        step=1,
        model=decision.start.model,
        api_message_id="msg_1",
        text=text,
        stop_reason="end_turn",
        usage=Usage(output_tokens=64_000),
        final=True,
        frame=answer_frame(trace.final_parts(text), text),
    )
    answered = evolve_all(state, [event])
    assert answered.running is not None
    assert answered.running.answered
    key, value, headers = codec_for(THREAD_EVENTS).encode(event)
    outbox = (OutboxRecord("bot.thread.events", key, value, list(headers)),)
    data, history = encode_snapshot(StoredThread(answered, outbox), seq=1)
    assert len(data) <= MAX_VALUE_BYTES
    assert history[-1].text == text
