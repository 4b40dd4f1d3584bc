"""Gemini chat end to end: Telegram updates through the gateway process, the thread worker
process streaming from the Gemini emulator (google-genai) or the Claude emulator as the user's
model says, the users and billing workers as processes; asserting what the user sees, what
the model was sent and what the ledger charges (the Gemini rows of the price table)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from model_tools_e2e import (
    Processes,
    answer,
    draft_texts,
    settle,
    start_processes,
    users_event,
)
from thread_e2e import WorkerProcess, eventually, fund, wait_ready, worker_env

from actors.billing.pricing import PRICE_TABLES
from actors.thread.models import GEMINI_FLASH, GEMINI_PRO, MODELS, SONNET
from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.gemini import FunctionCallPart, GeminiEmulator, Reply, TextPart, Usage
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.thread import read_topic
from devkit.harness.topics import wait_debits
from events.catalog import USERS_EVENTS
from events.users import ModelChanged, ThinkingChanged
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

pytestmark = pytest.mark.slow

SWITCHER, TOOLS = 871001, 871002
ANSWER = (
    "Kafka keeps one ordered log per partition, and every consumer group reads it at its own "
    "pace, so a slow reader never holds up a fast one and the log can be replayed."
)


@pytest.fixture(scope="module")
def thread_worker(
    stack: Endpoints,
    e2e_prefix: str,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    gemini_emulator_server: GeminiEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    """The thread worker with a Gemini key and the Gemini emulator's URL."""
    env = worker_env(
        stack,
        e2e_prefix,
        telegram_emulator_server,
        claude_emulator_server,
        GOOGLE_API_KEY="emulator-key",
        GOOGLE_GEMINI_BASE_URL=gemini_emulator_server.base_url,
    )
    worker = WorkerProcess(stack, e2e_prefix, env, tmp_path_factory.mktemp("gw") / "worker.log")
    worker.start()
    yield worker
    worker.terminate()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bot(
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator_server: TelegramEmulator,
    stack: Endpoints,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Processes]:
    """The worker ready and the test users funded, then gateway, users and billing workers."""
    await wait_ready(thread_worker, publisher, telegram_emulator_server, 871000, timeout=300)
    for user_id in (SWITCHER, TOOLS):
        telegram_emulator_server.add_private_chat(user_id)
        await fund(publisher, user_id, "5.00")
    log_dir = tmp_path_factory.mktemp("gemini-e2e")
    polls = len(telegram_emulator_server.calls("getUpdates"))
    procs = start_processes(thread_worker.env, thread_worker.prefix, stack.kafka_bootstrap, log_dir)
    await eventually(
        lambda: len(telegram_emulator_server.calls("getUpdates")) > polls, 300, interval=0.2
    )
    try:
        yield procs
    finally:
        procs.stop()


@pytest.fixture
def telegram_emulator(telegram_emulator_server: TelegramEmulator) -> TelegramEmulator:
    """The module's Telegram emulator without resets (the gateway polls it all along)."""
    return telegram_emulator_server


@pytest.fixture
def gemini(gemini_emulator_server: GeminiEmulator) -> Iterator[GeminiEmulator]:
    gemini_emulator_server.reset()
    yield gemini_emulator_server
    gemini_emulator_server.reset()


async def model_changed(
    stack: Endpoints, profile: BrokerProfile, prefix: str, user_id: int, model: str
) -> None:
    """Wait for the users actor to record ``user_id``'s change to ``model``."""

    async def found() -> Any:
        events = await read_topic(stack.kafka_bootstrap, profile, USERS_EVENTS, prefix)
        return next(
            (e for e in events if isinstance(e, ModelChanged) and e.user_id == user_id
             and e.model == model),
            None,
        )  # fmt: skip

    await eventually(found, 60, interval=0.3)
    await settle()


def press(telegram: TelegramEmulator, user_id: int, message: Any, label: str) -> None:
    """Press the inline button whose text contains ``label``."""
    rows = message.json["reply_markup"]["inline_keyboard"]
    button = next(b for row in rows for b in row if label in b["text"])
    telegram.inject_update(
        {
            "callback_query": {
                "id": f"cb-{user_id}",
                "from": {"id": user_id, "is_bot": False, "first_name": "Ada"},
                "chat_instance": "ci",
                "message": message.json,
                "data": button["callback_data"],
            }
        }
    )


async def test_a_gemini_turn_is_streamed_charged_and_the_model_switches_back_to_claude(
    bot: Processes,
    gemini: GeminiEmulator,
    claude_emulator: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """/model flash shows Flash's card; with /thinking high the Gemini answer streams as
    drafts (thought summary, then text), ends in one message and is debited at the Gemini
    Flash row; the /model keyboard then switches to Sonnet and Claude answers."""
    prefix = bot.env["TOPIC_PREFIX"]
    telegram_emulator.send_command(SWITCHER, "thinking", "high")
    await answer(telegram_emulator, SWITCHER, 1)
    await users_event(stack.kafka_bootstrap, broker_profile, prefix, ThinkingChanged, SWITCHER)
    telegram_emulator.send_command(SWITCHER, "model", "flash")
    card = await answer(telegram_emulator, SWITCHER, 2)
    assert card.text.startswith("Model set to Gemini 3 Flash."), bot.logs()
    assert "Context: 1,048,576 tokens" in card.text
    assert "input $0.50, output $3, cached input $0.05" in card.text
    await model_changed(stack, broker_profile, prefix, SWITCHER, GEMINI_FLASH)

    gemini.script(
        Reply(
            parts=[TextPart(text="The user asks about Kafka's design.", thought=True),
                   TextPart(text=ANSWER)],
            usage=Usage(prompt_tokens=2000, candidates_tokens=300, thoughts_tokens=100),
            chunk_delay=0.1,
            model=GEMINI_FLASH,
        )
    )  # fmt: skip
    telegram_emulator.send_text(SWITCHER, "why is kafka a log?")
    final = await answer(telegram_emulator, SWITCHER, 3)
    assert ANSWER in final.text, bot.logs()
    assert final.text.startswith("🧠 thought")
    drafts = draft_texts(telegram_emulator, SWITCHER)
    assert any("Kafka's design" in d for d in drafts)
    assert any(ANSWER[:20] in d and ANSWER not in d for d in drafts)  # a partial answer
    [call] = gemini.generate_calls()
    assert call.path.endswith(f"/models/{GEMINI_FLASH}:streamGenerateContent")
    assert "why is kafka a log?" in json.dumps(call.body["contents"])
    [entry] = await wait_debits(stack.kafka_bootstrap, broker_profile, prefix, 1, user_id=SWITCHER)
    assert entry.price_version == PRICE_TABLES[-1].version
    amounts = {line.item: line.amount for line in entry.lines}
    assert amounts == {
        f"{GEMINI_FLASH}/input_tokens": Decimal("0.001"),  # 2,000 x $0.50 / M
        f"{GEMINI_FLASH}/output_tokens": Decimal("0.0012"),  # (300 + 100 thinking) x $3 / M
    }

    telegram_emulator.send_command(SWITCHER, "model")
    keyboard = await answer(telegram_emulator, SWITCHER, 4)
    rows = keyboard.json["reply_markup"]["inline_keyboard"]
    labels = [button["text"].removeprefix("✓ ") for row in rows for button in row]
    assert labels == [spec.label for spec in MODELS.values()]
    press(telegram_emulator, SWITCHER, keyboard, "Sonnet")
    await model_changed(stack, broker_profile, prefix, SWITCHER, SONNET)
    claude_emulator.script(text_reply("Claude answers now.", contains="and now?"))
    telegram_emulator.send_text(SWITCHER, "and now?")
    back = await answer(telegram_emulator, SWITCHER, 5)
    assert "Claude answers now." in back.text, bot.logs()
    assert len(gemini.generate_calls()) == 1
    entries = await wait_debits(stack.kafka_bootstrap, broker_profile, prefix, 2, user_id=SWITCHER)
    assert all(line.item.startswith(SONNET) for line in entries[-1].lines)


async def test_a_tool_call_on_gemini_runs_through_the_tool_registry(
    bot: Processes,
    gemini: GeminiEmulator,
    telegram_emulator: TelegramEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """On Gemini Pro the registry's client tools are declared as functions; a function call
    runs estimate_cost, its result goes back as a functionResponse with the call's thought
    signature, and both steps are debited at the Gemini Pro row."""
    prefix = bot.env["TOPIC_PREFIX"]
    telegram_emulator.send_command(TOOLS, "model", "pro")
    await answer(telegram_emulator, TOOLS, 1)
    await model_changed(stack, broker_profile, prefix, TOOLS, GEMINI_PRO)
    gemini.script(
        Reply(
            parts=[FunctionCallPart(
                name="estimate_cost",
                args={"model": GEMINI_PRO, "input_tokens": 100000, "output_tokens": 10000},
                id="call-1",
            )],
            model=GEMINI_PRO,
        ),
        Reply(parts=[TextPart(text="About 32 cents.")], model=GEMINI_PRO),
    )  # fmt: skip
    telegram_emulator.send_text(TOOLS, "what would a long report cost?")
    final = await answer(telegram_emulator, TOOLS, 2)
    assert "About 32 cents." in final.text, bot.logs()
    first, second = gemini.generate_calls()
    declared = {d["name"] for d in first.body["tools"][0]["functionDeclarations"]}
    assert "estimate_cost" in declared
    assert not declared & {"web_search", "web_fetch"}
    (call_part,) = [p for p in second.body["contents"][-2]["parts"] if "functionCall" in p]
    assert call_part["thoughtSignature"]
    response = second.body["contents"][-1]["parts"][0]["functionResponse"]
    assert (response["id"], response["name"]) == ("call-1", "estimate_cost")
    assert "0.32" in json.dumps(response["response"])
    entries = await wait_debits(stack.kafka_bootstrap, broker_profile, prefix, 2, user_id=TOOLS)
    model_lines = [line for e in entries for line in e.lines if "/" in line.item]
    assert model_lines
    assert all(line.item.startswith(f"{GEMINI_PRO}/") for line in model_lines)
