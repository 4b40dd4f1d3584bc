"""The model-side tools end to end: Telegram updates through the gateway process, the thread
worker process running the tool loop against the Claude emulator, the users and billing
workers as processes; asserting what the user sees and what the ledger charges."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio
from model_tools_e2e import (
    Processes,
    draft_texts,
    line_total,
    link_urls,
    red_png,
    running_bot,
    settle,
    three_page_pdf,
)
from pypdf import PdfReader
from thread_e2e import WorkerProcess

from actors.billing.pricing import PRICE_TABLES
from actors.gateway.replies import thinking_chosen
from actors.thread.models import HAIKU, OPUS, SONNET
from devkit.emulators.claude import (
    ClaudeEmulator,
    Reply,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    Usage,
    WebSearchResult,
    WebSearchToolResultBlock,
    parallel_tools_reply,
    text_reply,
    tool_reply,
    web_search_reply,
)
from devkit.emulators.claude.scripts import WebSearchCitation
from devkit.emulators.telegram import TelegramEmulator
from events.files import FileReceived
from events.users import ModelChanged, ThinkingChanged
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

pytestmark = pytest.mark.slow

SEARCH, THINK, IMAGE, PDF, PREVIEW, HAIKU_USER, CRITIC, POOR, CAPPED = range(861001, 861010)
FUNDS = {SEARCH: "5.00", THINK: "5.00", IMAGE: "5.00", PDF: "5.00", PREVIEW: "5.00",
         HAIKU_USER: "5.00", CRITIC: "5.00", POOR: "0.90", CAPPED: "5.00"}  # fmt: skip
LONG = "Apache Kafka 4.1 brings queues, a new consumer rebalance protocol and more. " * 3


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bot(
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator_server: TelegramEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Processes]:
    """The worker ready, every test user funded *before* the billing worker folds the
    ledger, then the gateway, users and billing workers started."""
    log_dir = tmp_path_factory.mktemp("tools-e2e")
    async with running_bot(
        thread_worker, publisher, telegram_emulator_server, log_dir, probe_chat=861000, funds=FUNDS
    ) as procs:
        yield procs


@pytest.fixture
def claude(claude_emulator: ClaudeEmulator) -> ClaudeEmulator:
    return claude_emulator


@pytest.fixture
def telegram_emulator(telegram_emulator_server: TelegramEmulator) -> TelegramEmulator:
    """The module's Telegram emulator *without* a reset between tests: the gateway polls it
    all along (a reset restarts update ids below the gateway's offset); chats differ."""
    return telegram_emulator_server


async def test_web_search_with_pause_turn_shows_progress_links_and_charges_per_search(
    bot: Processes,
    claude: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """A paused search is continued; the draft shows the search line, the answer keeps the
    trace and the cited page as a link; the ledger charges $0.01 for the search."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    url = "https://kafka.example/4.1"
    claude.script_loop(
        Reply(
            content=[
                TextBlock(text="Let me look that up for you."),
                ServerToolUseBlock(name="web_search", input={"query": "kafka 4.1 release"}),
            ],
            stop_reason="pause_turn",
            chunk_delay=0.05,
            chunk_size=3,
        ),
        Reply(
            content=[
                WebSearchToolResultBlock(
                    results=[WebSearchResult(url=url, title="Kafka 4.1 notes"),
                             WebSearchResult(url="https://other.example", title="Other")]
                ),
                TextBlock(text=LONG, citations=[WebSearchCitation(url=url, title="Kafka 4.1")]),
            ],
            chunk_delay=0.05,
            chunk_size=4,
        ),
        contains="kafka news",
    )  # fmt: skip
    final = await sc.say(SEARCH, "any kafka news?")
    assert final.text.startswith("🔍 searched the web"), bot.logs()
    assert "Apache Kafka 4.1 brings queues" in final.text
    assert link_urls(final) == [url]
    assert any("searching the web for" in t for t in draft_texts(telegram_emulator, SEARCH))
    requests = [r for r in claude.message_requests() if "kafka news" in json.dumps(r.body)]
    assert len(requests) == 2
    assert {t.get("name") for t in requests[0].body["tools"]} >= {"web_search", "web_fetch"}
    assert "web-fetch-2025-09-10" in requests[0].headers.get("anthropic-beta", "")
    assert requests[1].body["messages"][-1]["role"] == "assistant"  # the continuation
    entries = await sc.debits(2, user_id=SEARCH)
    assert line_total(entries, "web_search") == Decimal("0.01")
    assert all(e.price_version == PRICE_TABLES[-1].version for e in entries)


async def test_thinking_level_reaches_the_request_draft_and_bill(
    bot: Processes,
    claude: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """/thinking high -> adaptive thinking at effort high; the draft shows the thinking in an
    expandable quote, the final message only a trace line; thinking is billed as output."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    confirmation = await sc.command(THINK, "thinking", "high")
    assert confirmation.text == thinking_chosen("en", "high")
    await sc.users_event(ThinkingChanged, THINK)
    await settle()
    thinking = "First, the user asks about primes. Let me check small divisors. " * 4
    claude.script(
        Reply(
            content=[ThinkingBlock(thinking=thinking), TextBlock(text="Yes, 97 is prime. " * 8)],
            chunk_delay=0.04,
            chunk_size=6,
            contains="is 97 prime",
        )
    )
    final = await sc.say(THINK, "is 97 prime?")
    assert final.text.startswith("🧠 thought"), bot.logs()
    assert "small divisors" not in final.text
    request = claude.last_message_request().body
    assert request["thinking"] == {"type": "adaptive"}
    assert request["output_config"] == {"effort": "high"}
    assert request["max_tokens"] == 32_000
    thinking_drafts = [
        call.params
        for call in telegram_emulator.calls("sendMessageDraft")
        if int(call.params.get("chat_id", 0)) == THINK
        and str(call.params.get("text", "")).startswith("🧠 Thinking")
    ]
    entity_lists = [
        json.loads(raw) if isinstance(raw, str) else raw
        for raw in (draft.get("entities") or [] for draft in thinking_drafts)
    ]
    assert any(
        any(e["type"] == "expandable_blockquote" for e in entities) for entities in entity_lists
    )
    [entry] = await sc.debits(1, user_id=THINK)
    assert entry.usage is not None
    assert entry.usage.thinking_tokens > 0
    output = [line for line in entry.lines if line.item == f"{SONNET}/output_tokens"]
    assert [line.quantity for line in output] == [entry.usage.output_tokens]


async def test_list_files_and_analyze_image_of_an_earlier_photo(
    bot: Processes,
    claude: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """Two calls of one step run; the image goes to Opus; only analyze_image is charged, at
    Opus rates; the final message names both steps."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    claude.script(text_reply("Nice picture.", contains="my picture"))
    update = telegram_emulator.send_photo(IMAGE, red_png(), caption="my picture")
    await sc.answer(IMAGE, 1)
    file_id = update["message"]["photo"][-1]["file_id"]
    claude.script_loop(
        parallel_tools_reply(
            [("list_files", {}), ("analyze_image", {"file_id": file_id,
                                                    "question": "Which colour dominates?"})]
        ),
        text_reply("It is mostly red."),
        contains="what colour was it",
    )  # fmt: skip
    claude.script(text_reply("Red dominates.", model=OPUS, contains="Which colour dominates?"))
    final = await sc.say(IMAGE, "what colour was it?")
    assert final.text.splitlines()[0] == "📋 listed files · 🖼️ looked at an image", bot.logs()
    assert "It is mostly red." in final.text
    last = claude.message_requests()[-1].body["messages"][-1]["content"]
    vision = [r.body for r in claude.message_requests() if r.body["model"] == OPUS]
    assert vision, json.dumps(last)[:3000]
    assert [b["type"] for b in vision[0]["messages"][0]["content"]] == ["image", "text"]
    results = {b["tool_use_id"]: b for b in last if b["type"] == "tool_result"}
    assert len(results) == 2
    events = await sc.thread_events(IMAGE)
    [received] = [e for e in events if isinstance(e, FileReceived)]  # list_files shows our id
    assert any(received.file_id in json.dumps(r) for r in results.values())
    entries = await sc.debits(4, user_id=IMAGE)
    tools = {e.tool_name for e in entries if e.tool_name}
    assert tools == {"analyze_image"}
    [tool_entry] = [e for e in entries if e.tool_name == "analyze_image"]
    assert all(line.item.startswith(OPUS) for line in tool_entry.lines)
    assert tool_entry.amount < 0


async def test_analyze_pdf_sends_only_the_selected_pages(
    bot: Processes,
    claude: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """pages "2" of a 3-page PDF: the vision call gets a 1-page PDF; the call is charged."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    claude.script(text_reply("Got the report.", contains="the report"))
    update = telegram_emulator.send_document(
        PDF, three_page_pdf(), file_name="report.pdf", mime_type="application/pdf",
        caption="the report",
    )  # fmt: skip
    await sc.answer(PDF, 1)
    file_id = update["message"]["document"]["file_id"]
    claude.script_loop(
        tool_reply("analyze_pdf", {"file_id": file_id, "question": "What is on it?",
                                   "pages": "2"}),
        text_reply("Page 2 is blank."),
        contains="page two",
    )  # fmt: skip
    claude.script(text_reply("A blank page.", model=OPUS, contains="What is on it?"))
    final = await sc.say(PDF, "what is on page two?")
    assert final.text.startswith("📄 read a PDF"), bot.logs()
    [vision] = [r.body for r in claude.message_requests() if r.body["model"] == OPUS]
    document = vision["messages"][0]["content"][0]
    pdf = PdfReader(io.BytesIO(base64.b64decode(document["source"]["data"])))
    assert len(pdf.pages) == 1
    assert "pages 2 of 3" in vision["messages"][0]["content"][1]["text"]
    entries = await sc.debits(4, user_id=PDF)
    assert any(e.tool_name == "analyze_pdf" and e.amount < 0 for e in entries)


async def test_preview_of_a_text_file_is_free(
    bot: Processes,
    claude: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """preview_file of a text file returns its start to the model and charges nothing."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    claude.script(text_reply("Saved.", contains="notes"))
    update = telegram_emulator.send_document(
        PREVIEW, b"alpha beta gamma\n" * 10, file_name="notes.txt", mime_type="text/plain",
        caption="notes",
    )  # fmt: skip
    await sc.answer(PREVIEW, 1)
    file_id = update["message"]["document"]["file_id"]
    claude.script_loop(
        tool_reply("preview_file", {"file_id": file_id, "max_chars": 200}),
        text_reply("It lists alpha, beta, gamma."),
        contains="peek",
    )
    final = await sc.say(PREVIEW, "peek into the notes")
    assert final.text.startswith("👁️ previewed a file"), bot.logs()
    result = claude.message_requests()[-1].body["messages"][-1]["content"][0]
    assert "alpha beta gamma" in json.dumps(result)
    entries = await sc.debits(3, user_id=PREVIEW)
    assert not any(e.tool_name for e in entries)


async def test_extended_thinking_is_offered_to_haiku_and_billed_at_haiku_rates(
    bot: Processes,
    claude: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """On Haiku the extended_thinking tool is offered; its thinking call is charged."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    await sc.command(HAIKU_USER, "model", "haiku")
    await sc.users_event(ModelChanged, HAIKU_USER)
    await settle()
    claude.script_loop(
        tool_reply("extended_thinking", {"problem": "Sum of 1..100?", "focus": "correctness"}),
        text_reply("It is 5050."),
        contains="sum to a hundred",
    )
    claude.script(
        Reply(
            content=[ThinkingBlock(thinking="Pair 1+100, 2+99: 50 pairs of 101."),
                     TextBlock(text="5050")],
            model=HAIKU,
            contains="Sum of 1..100?",
        )
    )  # fmt: skip
    final = await sc.say(HAIKU_USER, "what is the sum to a hundred?")
    assert "It is 5050." in final.text, bot.logs()
    main = [r.body for r in claude.message_requests() if "sum to a hundred" in json.dumps(r.body)]
    assert "extended_thinking" in {t["name"] for t in main[0]["tools"]}
    [think] = [r.body for r in claude.message_requests() if "Sum of 1..100?" in json.dumps(
        r.body["messages"][0])]  # fmt: skip
    assert think["thinking"] == {"type": "enabled", "budget_tokens": 12_000}
    result = main[-1]["messages"][-1]["content"][0]
    assert "50 pairs of 101" in json.dumps(result)
    entries = await sc.debits(3, user_id=HAIKU_USER)
    [tool_entry] = [e for e in entries if e.tool_name == "extended_thinking"]
    assert all(line.item.startswith(HAIKU) for line in tool_entry.lines)


async def test_self_critique_reviews_with_tools_and_charges_the_whole_review(
    bot: Processes,
    claude: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """The Opus reviewer runs a file tool and a web search, returns PASS; both reviewer
    calls and the search are one charge of the user's."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    claude.script_loop(
        tool_reply("self_critique", {"user_request": "Is 7 prime?",
                                     "draft_answer": "Yes, 7 is prime."}),
        text_reply("Yes, 7 is prime (checked)."),
        contains="seven prime",
    )  # fmt: skip
    verdict = json.dumps({"verdict": "PASS", "summary": "Correct.", "issues": []})
    claude.script(
        tool_reply("list_files", {}, model=OPUS, contains="The draft answer", answers="user"),
        web_search_reply(
            "is 7 prime", [WebSearchResult(url="https://primes.example", title="Primes")],
            verdict, cite=False, model=OPUS, contains="The draft answer", answers="tool_result",
        ),
    )  # fmt: skip
    final = await sc.say(CRITIC, "is seven prime?")
    assert final.text.startswith("🧐 checked the answer"), bot.logs()
    reviewer = [r.body for r in claude.message_requests() if r.body["model"] == OPUS]
    assert len(reviewer) == 2
    assert reviewer[0]["thinking"] == {"type": "adaptive"}
    result = claude.message_requests()[-1].body["messages"][-1]["content"][0]
    assert '\\"verdict\\": \\"PASS\\"' in json.dumps(result)
    entries = await sc.debits(3, user_id=CRITIC)
    [review] = [e for e in entries if e.tool_name == "self_critique"]
    assert review.tool_quantities is not None
    assert len(review.tool_quantities.model_calls) == 2
    assert line_total([review], "web_search") == Decimal("0.01")


async def test_self_critique_is_skipped_below_one_dollar(
    bot: Processes,
    claude: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """With $0.90 the review is SKIPPED: no reviewer call, no charge for it."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    claude.script_loop(
        tool_reply("self_critique", {"user_request": "Hi?", "draft_answer": "Hello!"}),
        text_reply("Hello!"),
        contains="greet me",
    )
    final = await sc.say(POOR, "greet me")
    assert "Hello!" in final.text, bot.logs()
    assert not [r for r in claude.message_requests() if r.body["model"] == OPUS]
    result = claude.message_requests()[-1].body["messages"][-1]["content"][0]
    assert "SKIPPED" in json.dumps(result)
    entries = await sc.debits(2, user_id=POOR)
    assert not any(e.tool_name for e in entries)


async def test_self_critique_stops_at_the_cost_cap_and_charges_what_it_spent(
    bot: Processes,
    claude: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """A reviewer call costing $0.755 passes the $0.50 cap: COST_CAP after one call, which
    is charged."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    claude.script_loop(
        tool_reply("self_critique", {"user_request": "Essay?", "draft_answer": "An essay."}),
        text_reply("Here is the essay."),
        contains="write an essay",
    )
    claude.script(
        tool_reply(
            "list_files", {}, model=OPUS, contains="An essay.",
            usage=Usage(input_tokens=1000, output_tokens=30_000),
        )
    )  # fmt: skip
    final = await sc.say(CAPPED, "write an essay")
    assert "Here is the essay." in final.text, bot.logs()
    assert len([r for r in claude.message_requests() if r.body["model"] == OPUS]) == 1
    result = claude.message_requests()[-1].body["messages"][-1]["content"][0]
    assert "COST_CAP" in json.dumps(result)
    entries = await sc.debits(3, user_id=CAPPED)
    [review] = [e for e in entries if e.tool_name == "self_critique"]
    assert review.amount == Decimal("-0.755")
