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
    draft_texts,
    running_bot,
    settle,
)
from thread_e2e import WorkerProcess, worker_env

from actors.billing.pricing import PRICE_TABLES
from actors.thread.models import GEMINI_FLASH, GEMINI_PRO, MODELS, SONNET
from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.gemini import FunctionCallPart, GeminiEmulator, Reply, TextPart, Usage
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.e2e import Scenario
from devkit.harness.gateway import press_button
from events.users import ModelChanged, ThinkingChanged
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

pytestmark = pytest.mark.slow

SWITCHER, TOOLS = 871001, 871002
FUNDS = dict.fromkeys((SWITCHER, TOOLS), "5.00")
ANSWER = (
    "Kafka keeps one ordered log per partition, and every consumer group reads it at its own "
    "pace, so a slow reader never holds up a fast one and the log can be replayed."
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def thread_worker(
    stack: Endpoints,
    e2e_prefix: str,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    gemini_emulator_server: GeminiEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[WorkerProcess]:
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
    await worker.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bot(
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator_server: TelegramEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Processes]:
    """The worker ready and the test users funded, then gateway, users and billing workers."""
    log_dir = tmp_path_factory.mktemp("gemini-e2e")
    async with running_bot(
        thread_worker,
        publisher,
        telegram_emulator_server,
        log_dir,
        probe_chat=871000,
        funds=FUNDS,
    ) as procs:
        yield procs


@pytest.fixture
def telegram_emulator(telegram_emulator_server: TelegramEmulator) -> TelegramEmulator:
    """The module's Telegram emulator without resets (the gateway polls it all along)."""
    return telegram_emulator_server


@pytest.fixture
def gemini(gemini_emulator_server: GeminiEmulator) -> Iterator[GeminiEmulator]:
    gemini_emulator_server.reset()
    yield gemini_emulator_server
    gemini_emulator_server.reset()


async def model_changed(sc: Scenario, user_id: int, model: str) -> None:
    """Wait for the users actor to record ``user_id``'s change to ``model``."""
    await sc.users_event(ModelChanged, user_id, where=lambda e: e.model == model)
    await settle()


def press(telegram: TelegramEmulator, user_id: int, message: Any, label: str) -> None:
    """Press the inline button whose text contains ``label``."""
    rows = message.json["reply_markup"]["inline_keyboard"]
    button = next(b for row in rows for b in row if label in b["text"])
    press_button(telegram, user_id, message, button["callback_data"])


async def test_a_gemini_turn_is_streamed_charged_and_the_model_switches_back_to_claude(
    bot: Processes,
    gemini: GeminiEmulator,
    claude_emulator: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """/model flash shows Flash's card; with /thinking high the Gemini answer streams as
    drafts (thought summary, then text), ends in one message and is debited at the Gemini
    Flash row; the /model keyboard then switches to Sonnet and Claude answers."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    await sc.command(SWITCHER, "thinking", "high")
    await sc.users_event(ThinkingChanged, SWITCHER)
    card = await sc.command(SWITCHER, "model", "flash")
    assert card.text.startswith("Model set to Gemini 3 Flash."), bot.logs()
    assert "Context: 1,048,576 tokens" in card.text
    assert "input $0.50, output $3, cached input $0.05" in card.text
    await model_changed(sc, SWITCHER, GEMINI_FLASH)

    gemini.script(
        Reply(
            parts=[TextPart(text="The user asks about Kafka's design.", thought=True),
                   TextPart(text=ANSWER)],
            usage=Usage(prompt_tokens=2000, candidates_tokens=300, thoughts_tokens=100),
            chunk_delay=0.1,
            model=GEMINI_FLASH,
        )
    )  # fmt: skip
    final = await sc.say(SWITCHER, "why is kafka a log?")
    assert ANSWER in final.text, bot.logs()
    assert final.text.startswith("🧠 thought")
    drafts = draft_texts(telegram_emulator, SWITCHER)
    assert any("Kafka's design" in d for d in drafts)
    assert any(ANSWER[:20] in d and ANSWER not in d for d in drafts)  # a partial answer
    [call] = gemini.generate_calls()
    assert call.path.endswith(f"/models/{GEMINI_FLASH}:streamGenerateContent")
    assert "why is kafka a log?" in json.dumps(call.body["contents"])
    [entry] = await sc.debits(1, user_id=SWITCHER)
    assert entry.price_version == PRICE_TABLES[-1].version
    amounts = {line.item: line.amount for line in entry.lines}
    assert amounts == {
        f"{GEMINI_FLASH}/input_tokens": Decimal("0.001"),  # 2,000 x $0.50 / M
        f"{GEMINI_FLASH}/output_tokens": Decimal("0.0012"),  # (300 + 100 thinking) x $3 / M
    }

    keyboard = await sc.command(SWITCHER, "model")
    rows = keyboard.json["reply_markup"]["inline_keyboard"]
    labels = [button["text"].removeprefix("✓ ") for row in rows for button in row]
    assert labels == [spec.label for spec in MODELS.values()]
    press(telegram_emulator, SWITCHER, keyboard, "Sonnet")
    await model_changed(sc, SWITCHER, SONNET)
    claude_emulator.script(text_reply("Claude answers now.", contains="and now?"))
    back = await sc.say(SWITCHER, "and now?")
    assert "Claude answers now." in back.text, bot.logs()
    assert len(gemini.generate_calls()) == 1
    entries = await sc.debits(2, user_id=SWITCHER)
    assert all(line.item.startswith(SONNET) for line in entries[-1].lines)


async def test_a_tool_call_on_gemini_runs_through_the_tool_registry(
    bot: Processes,
    gemini: GeminiEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """On Gemini Pro the registry's client tools are declared as functions; a function call
    runs estimate_cost, its result goes back as a functionResponse with the call's thought
    signature, and both steps are debited at the Gemini Pro row."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    await sc.command(TOOLS, "model", "pro")
    await model_changed(sc, TOOLS, GEMINI_PRO)
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
    final = await sc.say(TOOLS, "what would a long report cost?")
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
    entries = await sc.debits(2, user_id=TOOLS)
    model_lines = [line for e in entries for line in e.lines if "/" in line.item]
    assert model_lines
    assert all(line.item.startswith(f"{GEMINI_PRO}/") for line in model_lines)
