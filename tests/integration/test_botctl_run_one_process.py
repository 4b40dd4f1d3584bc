"""`botctl run --processes one`: every service as a task of a single process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.processes import ChildProcess, wait_exit
from devkit.harness.service_fork import spawn
from infra.endpoints import Endpoints
from infra.services.process_table import children
from infra.services.supervisor import botctl_argv

ROOT = Path(__file__).resolve().parents[2]


def _env(
    stack: Endpoints,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    tmp_path: Path,
    **more: str,
) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
        "TELEGRAM_API_URL": telegram_emulator.base_url,
        "TELEGRAM_BOT_TOKEN": telegram_emulator.token,
        "ANTHROPIC_BASE_URL": claude_emulator.base_url,
        "ANTHROPIC_API_KEY": "emulator-key",
        "BOTCTL_STATE_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
        **more,
    }


def _start_bot(env: dict[str, str], tmp_path: Path) -> ChildProcess:
    return spawn(botctl_argv("run", "--processes", "one"), env, ROOT, tmp_path / "run.log")


async def _exit_code(bot: ChildProcess, timeout: float) -> int | None:
    """The bot's exit status once it exited (None: still running after ``timeout``)."""
    await wait_exit(bot, timeout)
    return bot.poll()


async def _wait_answer(
    bot: ChildProcess, telegram_emulator: TelegramEmulator, chat: int, log: Path
) -> None:
    async with asyncio.timeout(180):
        while not [m for m in telegram_emulator.bot_messages(chat) if m.text]:
            assert bot.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.2)


async def test_one_process_answers_a_message_and_stops_on_ctrl_c(
    stack: Endpoints,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    tmp_path: Path,
) -> None:
    """A message sent in Telegram is answered by the services running in one process (no
    child process at all), and SIGINT ends it with status 0."""
    env = _env(stack, telegram_emulator, claude_emulator, tmp_path)
    chat = 860001
    telegram_emulator.add_private_chat(chat)
    claude_emulator.script(text_reply("answered by one process"))
    bot = _start_bot(env, tmp_path)
    try:
        telegram_emulator.send_text(chat, "hello")
        await _wait_answer(bot, telegram_emulator, chat, tmp_path / "run.log")
        assert children(bot.pid) == []
    finally:
        bot.send_signal(signal.SIGINT)
        code = await _exit_code(bot, 90)
    assert code == 0, (tmp_path / "run.log").read_text()[-3000:]


def _restarts(log: Path, service: str) -> int:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return sum(
        1
        for line in lines
        if line.get("msg") == "service failed; restarting" and line.get("service") == service
    )


async def test_a_failed_service_is_restarted_in_the_process_and_sigterm_stops_it(
    stack: Endpoints,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    tmp_path: Path,
) -> None:
    """In one process, a service task that fails (the thread worker, twice) is restarted in
    that process with each restart logged; the bot then answers, and SIGTERM ends it with 0."""
    env = _env(
        stack,
        telegram_emulator,
        claude_emulator,
        tmp_path,
        CLAUDEGRAM_TEST_CRASH="task-thread-worker:2",
        TOPIC_PREFIX="onerestart.",
    )
    chat = 860002
    telegram_emulator.add_private_chat(chat)
    claude_emulator.script(text_reply("answered after two restarts"))
    bot = _start_bot(env, tmp_path)
    try:
        telegram_emulator.send_text(chat, "hello")
        await _wait_answer(bot, telegram_emulator, chat, tmp_path / "run.log")
    finally:
        bot.send_signal(signal.SIGTERM)
        code = await _exit_code(bot, 90)
    log = tmp_path / "run.log"
    assert code == 0, log.read_text()[-3000:]
    assert _restarts(log, "thread-worker") == 2, log.read_text()[-3000:]
    assert children(bot.pid) == []


async def test_a_crash_looping_service_stops_the_one_process_bot_naming_it(
    stack: Endpoints,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    tmp_path: Path,
) -> None:
    """A service task failing five times within a minute stops the whole one-process bot
    with status 1 and a message naming the service."""
    env = _env(
        stack,
        telegram_emulator,
        claude_emulator,
        tmp_path,
        CLAUDEGRAM_TEST_CRASH="task-users-worker:1000",
        TOPIC_PREFIX="oneloop.",
    )
    bot = _start_bot(env, tmp_path)
    code = await _exit_code(bot, 180)
    log = (tmp_path / "run.log").read_text()
    assert code == 1, log[-3000:]
    assert "botctl: service users-worker exited 5 times within 60 s; stopping the bot" in log
    assert "InjectedCrash: CLAUDEGRAM_TEST_CRASH=task-users-worker" in log
