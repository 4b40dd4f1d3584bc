"""Languages end to end: Telegram updates through the gateway, users worker, projector,
thread worker, billing worker and payments process (each its own process) against the
Telegram and Claude emulators. A user whose Telegram is in Russian is served in Russian
(welcome, answer, a failed turn, a thread notice, balance, /pay, a payment and its refund),
until /language switches them to English; anyone else is served in English."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
import pytest_asyncio
from model_tools_e2e import Processes
from thread_e2e import WorkerProcess, eventually, fund, wait_ready, worker_env

from actors.billing import replies as billing_replies
from actors.billing.payments import InvoicePayload, custom_amount_prompt
from actors.gateway import replies
from actors.gateway.command_registry import help_text
from actors.texts import Language, say
from devkit.emulators.claude import ClaudeEmulator, Overloaded, failure_reply, text_reply
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.processes import stop_processes
from devkit.harness.topics import running_publisher
from events.catalog import TOPICS
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.topic_admin import ensure_topics
from infra.services.supervisor import botctl_argv

pytestmark = pytest.mark.slow

RU, EN = 871001, 871002
SERVICES = ("gateway", "users-worker", "billing-worker", "projector", "payments")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bot(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Processes]:
    """Every service as a process on its own topics and read-model schema; the users funded
    before the billing worker folds the ledger; the gateway polling before a test sends."""
    prefix = f"l{uuid.uuid4().hex[:8]}."
    schema = f"lang_{uuid.uuid4().hex[:8]}"
    await ensure_topics(
        stack.kafka_bootstrap, [*TOPICS, *(t.dead_letter() for t in TOPICS)], name_prefix=prefix
    )
    env = worker_env(
        stack,
        prefix,
        telegram_emulator_server,
        claude_emulator_server,
        READ_SCHEMA=schema,
        REDIS_KEY_PREFIX=f"{schema}:",
    )
    logs = tmp_path_factory.mktemp("languages")
    worker = WorkerProcess(stack, prefix, env, logs / "thread-worker.log")
    worker.start()
    procs = Processes(env, logs)
    try:
        async with running_publisher(stack.kafka_bootstrap, broker_profile, prefix) as publisher:
            telegram_emulator_server.add_private_chat(RU, first_name="Анна", language_code="ru")
            telegram_emulator_server.add_private_chat(EN, first_name="Erik", language_code="de")
            for user_id in (RU, EN):
                await fund(publisher, user_id, "5.00")
            polls = len(telegram_emulator_server.calls("getUpdates"))
            for service in SERVICES:
                procs.start(service, *botctl_argv(service))
            await wait_ready(worker, publisher, telegram_emulator_server, 871000, timeout=300)
        await eventually(
            lambda: len(telegram_emulator_server.calls("getUpdates")) > polls, 300, interval=0.2
        )
        yield procs
    finally:
        await stop_processes([*procs.procs, *([worker.proc] if worker.proc else [])])


@pytest.fixture
def telegram(telegram_emulator_server: TelegramEmulator) -> TelegramEmulator:
    """The module's Telegram emulator without a reset between tests (the gateway polls it)."""
    return telegram_emulator_server


async def said(
    telegram: TelegramEmulator,
    chat_id: int,
    wanted: Callable[[str], bool],
    procs: Processes,
    timeout: float = 90,
) -> str:
    """The newest bot message in the chat that ``wanted`` accepts, once there."""

    def found() -> str | None:
        for message in reversed(telegram.bot_messages(chat_id)):
            if wanted(message.text or ""):
                return message.text or ""
        return None

    try:
        text = await eventually(found, timeout, interval=0.2)
    except TimeoutError:
        shown = [m.text for m in telegram.bot_messages(chat_id)][-8:]
        raise AssertionError(f"not said in {chat_id}: {shown}\n{procs.logs()}") from None
    assert text is not None
    return text


def press(telegram: TelegramEmulator, user_id: int, data: str) -> None:
    """The user presses the inline button ``data`` under the bot's newest message."""
    message = telegram.bot_messages(user_id)[-1].json
    telegram.inject_update(
        {
            "callback_query": {
                "id": f"cb{len(telegram.calls())}",
                "from": telegram.world.user_json(user_id),
                "chat_instance": "ci",
                "message": message,
                "data": data,
            }
        }
    )


async def conversation(
    bot: Processes, telegram: TelegramEmulator, claude: ClaudeEmulator, uid: int, lang: Language
) -> None:
    """/start, a message answered, a failed turn and a /stop with nothing running, each in
    ``lang``."""
    telegram.send_command(uid, "start")
    await said(telegram, uid, lambda t: t == replies.welcome(lang), bot)
    claude.script(text_reply(f"answer for {uid}", contains=f"hello {uid}"))
    telegram.send_text(uid, f"hello {uid}")
    await said(telegram, uid, lambda t: t == f"answer for {uid}", bot)
    claude.script(failure_reply(Overloaded(), contains=f"again {uid}"))
    telegram.send_text(uid, f"again {uid}")
    await said(telegram, uid, lambda t: t == say(lang, "error.overloaded"), bot)
    telegram.send_command(uid, "stop")
    await said(telegram, uid, lambda t: t == say(lang, "thread.nothing_to_stop"), bot)


async def test_a_russian_user_is_served_in_russian_until_they_choose_english(
    bot: Processes, telegram: TelegramEmulator, claude_emulator_server: ClaudeEmulator
) -> None:
    """Telegram language "ru": the gateway, the thread worker, the billing worker and the
    payments process all answer in Russian; after /language -> English, in English."""
    await conversation(bot, telegram, claude_emulator_server, RU, "ru")

    telegram.send_command(RU, "help")
    await said(telegram, RU, lambda t: t == help_text("ru", privileged=False), bot)
    telegram.send_command(RU, "balance")
    balance = await said(telegram, RU, lambda t: t.startswith("Баланс: $"), bot)
    assert "стартовый бонус" in balance, balance
    telegram.send_command(RU, "pay")
    await said(telegram, RU, lambda t: t == billing_replies.pay_prompt("ru"), bot)
    buttons = telegram.bot_messages(RU)[-1].json["reply_markup"]["inline_keyboard"]
    assert buttons[-1][0]["text"] == say("ru", "billing.custom_button")
    press(telegram, RU, "pay:custom")
    await said(telegram, RU, lambda t: t == custom_amount_prompt("ru"), bot)

    payload = InvoicePayload(RU, "a" * 32, 100, Decimal(0)).encode()
    telegram.successful_payment(RU, 100, payload, charge_id="stxLANG1")
    thanks = await said(telegram, RU, lambda t: t.startswith("Спасибо!"), bot)
    assert "stxLANG1" in thanks
    telegram.send_command(RU, "refund", "stxLANG1")
    await said(telegram, RU, lambda t: t == billing_replies.refund_requested("ru", "stxLANG1"), bot)
    done = await said(telegram, RU, lambda t: t.startswith("Возвращено звёзд: 100"), bot)
    assert "stxLANG1" in done

    telegram.send_command(RU, "language")
    await said(telegram, RU, lambda t: t == replies.language_prompt("ru"), bot)
    keyboard = telegram.bot_messages(RU)[-1].json["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in keyboard[0]] == ["English", "✓ Русский"]
    press(telegram, RU, "language:en")
    await said(telegram, RU, lambda t: t == replies.language_chosen("en"), bot)

    telegram.send_command(RU, "balance")
    await said(telegram, RU, lambda t: t.startswith("Balance: $"), bot)
    await until_answered_in_english(bot, telegram)


async def until_answered_in_english(bot: Processes, telegram: TelegramEmulator) -> None:
    """/stop until the thread worker's notice is English: the worker learns the choice from
    the users log it tails, a few milliseconds after the users worker decided it."""
    english, russian = (say(lang, "thread.nothing_to_stop") for lang in ("en", "ru"))
    for _ in range(20):
        before = len(telegram.bot_messages(RU))
        telegram.send_command(RU, "stop")
        text = await said(
            telegram,
            RU,
            lambda t, n=before: t in (english, russian) and len(telegram.bot_messages(RU)) > n,
            bot,
        )
        if text == english:
            return
    raise AssertionError(f"the thread worker still answers in Russian\n{bot.logs()}")


async def test_a_user_of_another_language_is_served_in_english(
    bot: Processes, telegram: TelegramEmulator, claude_emulator_server: ClaudeEmulator
) -> None:
    """Telegram language "de" (one the bot does not speak): everything in English."""
    await conversation(bot, telegram, claude_emulator_server, EN, "en")
    telegram.send_command(EN, "balance")
    await said(telegram, EN, lambda t: t.startswith("Balance: $"), bot)
