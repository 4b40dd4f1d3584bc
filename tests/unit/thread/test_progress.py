"""What the user sees of a turn's work (draft header, final trace, chat actions) and what the
model is offered (tools per model, their guidance and beta headers)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from actors.thread.context import build_request
from actors.thread.markdown import render_markdown
from actors.thread.models import HAIKU, SONNET
from actors.thread.progress import TurnTrace, chat_action_for
from actors.thread.state import HistoryItem, ThreadState
from actors.thread.tools.catalog import default_registry
from devkit.emulators.telegram.entities import Entity, check_entities

SEARCH_CALL = {
    "type": "server_tool_use",
    "id": "srvtoolu_1",
    "name": "web_search",
    "input": {"query": "kafka exactly once"},
}
SEARCH_RESULT = {
    "type": "web_search_tool_result",
    "tool_use_id": "srvtoolu_1",
    "content": [
        {"type": "web_search_result", "url": "https://kafka.apache.org/docs", "title": "Docs"},
        {"type": "web_search_result", "url": "https://example.com/eos", "title": "EOS [guide]"},
    ],
}
FETCH_CALL = {
    "type": "server_tool_use",
    "id": "srvtoolu_2",
    "name": "web_fetch",
    "input": {"url": "https://www.example.com/eos/"},
}


def test_draft_header_has_an_expandable_thinking_quote_and_tool_lines() -> None:
    """Thinking shows in an expandable blockquote, then one line per tool call."""
    trace = TurnTrace()
    trace.add_thinking("Let me think.\nThe user wants *sources* (1+1=2).")
    trace.block(SEARCH_CALL)
    trace.block(FETCH_CALL)
    parsed = trace.draft_header()
    kinds = [e.type for e in parsed.entities]
    assert kinds == ["expandable_blockquote"]
    quote = parsed.entities[0]
    assert parsed.text[quote.offset : quote.end].startswith("🧠 Thinking…\nLet me think.")
    assert "The user wants *sources* (1+1=2)." in parsed.text
    assert "🔍 searching the web for “kafka exactly once”…" in parsed.text
    assert "🌐 reading page example.com/eos…" in parsed.text


def test_finished_calls_lose_their_ellipsis_and_failed_ones_say_so() -> None:
    """A server tool result marks its call done; an error result marks it failed."""
    trace = TurnTrace()
    trace.block(SEARCH_CALL)
    trace.block(SEARCH_RESULT)
    trace.block(FETCH_CALL)
    trace.block(
        {
            "type": "web_fetch_tool_result",
            "tool_use_id": "srvtoolu_2",
            "content": {"type": "web_fetch_tool_error", "error_code": "url_not_accessible"},
        }
    )
    text = trace.draft_header().text
    assert "🔍 searching the web for “kafka exactly once”\n" in text + "\n"
    assert "🌐 reading page example.com/eos (failed)" in text


def test_final_message_keeps_a_trace_line_and_sources_as_links() -> None:
    """The final answer starts with a compact trace and ends with the sources as links."""
    trace = TurnTrace()
    trace.add_thinking("hmm")
    trace.blocks([SEARCH_CALL, SEARCH_RESULT])
    final = trace.final_markdown("Kafka has exactly-once semantics.")
    lines = final.splitlines()
    assert lines[0] == "_🧠 thought · 🔍 searched the web_"
    parsed = render_markdown(final)
    links = [e.url for e in parsed.entities if e.type == "text_link"]
    assert links == ["https://kafka.apache.org/docs", "https://example.com/eos"]
    assert "EOS (guide)" in parsed.text


def test_cited_sources_are_preferred_over_all_results() -> None:
    """When the answer cites pages, the links are the cited ones."""
    trace = TurnTrace()
    trace.blocks([SEARCH_CALL, SEARCH_RESULT])
    trace.block(
        {
            "type": "text",
            "text": "Yes.",
            "citations": [
                {"type": "web_search_result_location", "url": "https://example.com/eos",
                 "title": "EOS", "cited_text": "..."}
            ],
        }
    )  # fmt: skip
    final = trace.final_markdown("Yes.")
    assert "https://example.com/eos" in final
    assert "kafka.apache.org" not in final


def test_no_work_leaves_the_answer_unchanged() -> None:
    """A plain answer gets no trace and no sources."""
    assert TurnTrace().final_markdown("Hello") == "Hello"


def test_client_tool_lines_and_chat_actions() -> None:
    """Client tools add lines through the runtime; the running one picks the chat action."""
    trace = TurnTrace()
    trace.tool_started("toolu_1", "generate_image", "drawing a cat")
    assert chat_action_for(trace.running_tool()) == "upload_photo"
    trace.tool_finished("toolu_1", ok=True)
    assert trace.running_tool() is None
    assert chat_action_for(None) == "typing"
    assert chat_action_for("analyze_pdf") == "typing"


@given(st.text(max_size=300), st.lists(st.text(max_size=40), max_size=10))
def test_draft_header_entities_always_fit(thinking: str, queries: list[str]) -> None:
    """Whatever the model thinks or searches for, the header's entities are inside its text
    as Telegram checks them."""
    trace = TurnTrace()
    trace.add_thinking(thinking)
    for i, query in enumerate(queries):
        trace.block({**SEARCH_CALL, "id": f"s{i}", "input": {"query": query}})
    header = trace.draft_header()
    given = [Entity(e.type, e.offset, e.length, e.url, e.language) for e in header.entities]
    assert check_entities(header.text, given) == given


def test_offered_tools_follow_the_model_and_bring_their_guidance_and_betas() -> None:
    """Haiku is offered extended_thinking, Sonnet not; web_fetch's beta is requested; the
    system prompt has one guidance line per offered tool."""
    registry = default_registry()
    assert "extended_thinking" in [t["name"] for t in registry.definitions(HAIKU)]
    assert "extended_thinking" not in [t["name"] for t in registry.definitions(SONNET)]
    assert registry.betas(SONNET) == ("web-fetch-2025-09-10",)
    state = ThreadState(key="1:0", history=(HistoryItem(role="user", text="hi"),))
    request = build_request(
        state,
        model=SONNET,
        personality=None,
        tools=registry.definitions(SONNET),
        betas=registry.betas(SONNET),
    )
    system = request.kwargs["system"][0]["text"]
    assert "- web_search for anything recent" in system
    assert "extended_thinking" not in system
    assert request.kwargs["betas"] == ["web-fetch-2025-09-10"]
