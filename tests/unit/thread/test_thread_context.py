"""Building the Messages API request; error classes; draft throttling; topic titles."""

from __future__ import annotations

from typing import Any

import pytest

from actors.thread.context import build_request, continuation_messages
from actors.thread.drafts import DraftGate, draft_id_for
from actors.thread.errors import ModelFailure, classify
from actors.thread.models import HAIKU, SONNET, model_spec
from actors.thread.state import FileNote, HistoryItem, ThreadState
from actors.thread.system_prompt import BASE_SYSTEM_PROMPT
from actors.thread.token_budget import FilesTooLarge, estimate_text_tokens
from actors.thread.topic_title import clean_title, title_request
from events.thread import TURN_ERROR_CLASSES


def state_with(*items: tuple[str, str]) -> ThreadState:
    history = tuple(
        HistoryItem(role=role, text=text, message_ids=(i,))  # type: ignore[arg-type]
        for i, (role, text) in enumerate(items)
    )
    return ThreadState(key="1:0", history=history)


def cache_marks(kwargs: dict[str, Any]) -> int:
    marks = sum(1 for b in kwargs["system"] if "cache_control" in b)
    for message in kwargs["messages"]:
        marks += sum(1 for b in message["content"] if "cache_control" in b)
    return marks


def test_request_has_system_personality_and_alternating_history() -> None:
    """System prompt + personality, user/assistant alternating, consecutive users merged."""
    state = state_with(("user", "a"), ("assistant", "b"), ("user", "c"), ("user", "d"))
    req = build_request(state, model=SONNET, personality="Talk like a pirate.")
    kwargs = req.kwargs
    assert kwargs["system"][0]["text"].startswith(BASE_SYSTEM_PROMPT)
    assert "pirate" in kwargs["system"][0]["text"]
    roles = [m["role"] for m in kwargs["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert [b["text"] for b in kwargs["messages"][-1]["content"]] == ["c", "d"]
    assert "thinking" not in kwargs


def test_cache_breakpoints_are_at_most_four() -> None:
    """Breakpoints on the system prompt, the previous exchange and the current input."""
    state = state_with(*[(("user", "assistant")[i % 2], f"m{i}") for i in range(9)])
    kwargs = build_request(state, model=SONNET, personality=None).kwargs
    assert cache_marks(kwargs) == 3
    assert "cache_control" in kwargs["messages"][-1]["content"][-1]


def test_history_is_trimmed_to_the_context_window() -> None:
    """A history far beyond 200K tokens is cut to the newest items that fit."""
    big = "x" * 100_000  # ~29K tokens each
    state = state_with(*[(("user", "assistant")[i % 2], big) for i in range(21)])
    req = build_request(state, model=HAIKU, personality=None)
    assert req.context_tokens < model_spec(HAIKU).context_window - req.max_tokens
    assert req.history_items < 21
    assert req.kwargs["messages"][0]["role"] == "user"
    assert req.kwargs["messages"][-1]["content"][0]["text"] == big


def test_a_cjk_history_is_not_undercounted_against_the_context_window() -> None:
    """Chinese text counts about a token a character (3.5 characters a token undercounted
    it 3-5x and overflowed the window)."""
    assert estimate_text_tokens("你好" * 1000) >= 2000
    assert estimate_text_tokens("hello " * 1000) == estimate_text_tokens("x" * 6000)


def test_inlined_text_files_count_against_the_context_window() -> None:
    """A text file of the input takes room from the history; one that cannot fit at all is
    refused with a message saying so (before any call)."""
    older = "y" * 100_000  # ~29K tokens each
    state = state_with(
        *[(("user", "assistant")[i % 2], older) for i in range(6)], ("user", "read this")
    )
    last = HistoryItem(
        role="user",
        text="read this",
        message_ids=(99,),
        files=(FileNote(kind="document", file_id="d"),),
    )
    state = ThreadState(key="1:0", history=(*state.history[:-1], last))
    medium = {99: [{"type": "text", "text": "z" * 360_000}]}  # ~120K tokens
    without = build_request(state, model=HAIKU, personality=None)
    trimmed = build_request(state, model=HAIKU, personality=None, file_blocks=medium)
    assert trimmed.history_items < without.history_items
    assert trimmed.kwargs["messages"][-1]["content"][0]["text"].startswith("z")
    huge = {99: [{"type": "text", "text": "z" * 700_000}]}  # ~233K tokens
    with pytest.raises(FilesTooLarge, match="context window") as refused:
        build_request(state, model=HAIKU, personality=None, file_blocks=huge)
    verdict = classify(ModelFailure("file_too_large", str(refused.value)))
    assert verdict.error_class == "context_overflow"
    assert "smaller file" in verdict.user_message


def test_thinking_budget_sets_thinking_and_a_larger_max_tokens() -> None:
    """Extended thinking: budget >= 1024 and max_tokens above it."""
    req = build_request(state_with(("user", "q")), model=SONNET, personality=None,
                        thinking_budget=2000)  # fmt: skip
    assert req.kwargs["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert req.kwargs["max_tokens"] > 2000


def test_files_of_the_current_input_become_blocks_and_older_ones_placeholders() -> None:
    """Downloaded images go in as blocks; files from earlier turns as a short placeholder."""
    note = FileNote(kind="photo", file_id="f")
    history = (
        HistoryItem(role="user", text="old", message_ids=(1,), files=(note,)),
        HistoryItem(role="assistant", text="ok"),
        HistoryItem(role="user", text="new", message_ids=(2,), files=(note,)),
    )
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "x"}}
    kwargs = build_request(
        ThreadState(key="1:0", history=history), model=SONNET, personality=None,
        file_blocks={2: [image]},
    ).kwargs  # fmt: skip
    first, last = kwargs["messages"][0]["content"], kwargs["messages"][-1]["content"]
    assert first[0]["text"].startswith("[photo")
    assert last[0]["type"] == "image"


def test_continuation_after_max_tokens_prefills_the_text_so_far() -> None:
    """max_tokens without thinking: the answer so far becomes the assistant prefill."""
    base = [{"role": "user", "content": [{"type": "text", "text": "q"}]}]
    once = continuation_messages(base, "max_tokens", [], "part one ", thinking=False)
    assert once[-1] == {"role": "assistant", "content": [{"type": "text", "text": "part one"}]}
    twice = continuation_messages(once, "max_tokens", [], "part one two", thinking=False)
    assert len(twice) == 2
    assert twice[-1]["content"][0]["text"] == "part one two"
    with_thinking = continuation_messages(base, "max_tokens", [], "p", thinking=True)
    assert with_thinking[-1]["role"] == "user"


def test_pause_turn_sends_the_paused_content_back() -> None:
    """pause_turn: the assistant content goes back unchanged."""
    blocks = [{"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}]
    out = continuation_messages([], "pause_turn", blocks, "", thinking=False)
    assert out == [{"role": "assistant", "content": blocks}]


def test_token_estimate_is_on_the_safe_side() -> None:
    """About 3.5 characters per token: more tokens than the API's 4 characters per token."""
    assert estimate_text_tokens("x" * 4000) > 1000


def test_every_failure_maps_to_a_known_error_class() -> None:
    """Each failure kind has a known error class and a user message."""
    for kind in ("rate_limited", "overloaded", "prompt_too_long", "invalid_request", "auth",
                 "timeout", "stream_broken", "api_error", "telegram", "internal"):  # fmt: skip
        verdict = classify(ModelFailure(kind))  # type: ignore[arg-type]
        assert verdict.error_class in TURN_ERROR_CLASSES
        assert verdict.user_message


def test_partial_usage_only_when_a_response_had_started() -> None:
    """A 529 before any token reports no usage; a stream broken mid-way reports it."""
    assert not classify(ModelFailure("overloaded")).report_partial_usage
    assert classify(ModelFailure("stream_broken", streamed=True)).report_partial_usage
    assert classify(ModelFailure("prompt_too_long")).error_class == "context_overflow"
    assert "12 s" in classify(ModelFailure("rate_limited", retry_after=12)).user_message


def test_draft_gate_one_per_second_per_chat_and_retry_after() -> None:
    """Drafts: one per second per chat, independent chats, and retry_after pushes back."""
    gate = DraftGate()
    assert gate.may_send(1, 0.0)
    gate.sent(1, 0.0)
    assert not gate.may_send(1, 0.5)
    assert gate.may_send(2, 0.5)
    assert gate.may_send(1, 1.0)
    gate.retry_after(1, 1.0, 7)
    assert not gate.may_send(1, 7.5)
    assert gate.may_send(1, 8.0)
    assert gate.wait_time(1, 5.0) == 3.0


def test_draft_gate_forgets_idle_chats_and_keeps_waiting_ones() -> None:
    """A worker serving 10,000 chats over hours remembers only the recent ones; a chat
    still inside a 429's retry_after is never forgotten."""
    gate = DraftGate()
    gate.retry_after(-1, 0.0, 100_000)
    for n in range(10_000):
        gate.sent(n, float(n))
    assert len(gate.chats) <= 2 * 256
    assert not gate.may_send(-1, 10_000.0)
    assert not gate.may_send(9_999, 9_999.5)


def test_draft_ids_are_stable_and_non_zero() -> None:
    """A turn's draft id never changes and is never 0."""
    turn = "0190a000-0000-7000-8000-000000000000"
    assert draft_id_for(turn) == draft_id_for(turn)
    assert draft_id_for(turn) != 0


def test_topic_titles_have_three_to_six_words() -> None:
    """Quotes and labels are stripped, long answers cut to 6 words, short ones replaced."""
    assert clean_title('Title: "Planning a Trip to Japan."', "") == "Planning a Trip to Japan"
    assert clean_title("one two three four five six seven eight", "") == (
        "One two three four five six"
    )
    assert clean_title("Hi", "how do I bake sourdough bread at home") == (
        "How do I bake sourdough bread"
    )
    assert clean_title("", "") == "New conversation"
    assert title_request("hello", HAIKU)["model"] == HAIKU
