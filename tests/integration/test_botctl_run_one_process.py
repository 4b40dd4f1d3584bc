"""`botctl run --processes one`: every service as a task of a single process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import TelegramEmulator
from infra.endpoints import Endpoints

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


async def test_one_process_answers_a_message_and_stops_on_ctrl_c(
    stack: Endpoints,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    tmp_path: Path,
) -> None:
    """A message sent in Telegram is answered by the services running in one process (no
    child process at all), and SIGINT ends it with status 0."""
    env = {
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
    }
    chat = 860001
    telegram_emulator.add_private_chat(chat)
    claude_emulator.script(text_reply("answered by one process"))
    log = open(tmp_path / "run.log", "ab")  # noqa: SIM115
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "infra.cli.main", "run", "--processes", "one",
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        telegram_emulator.send_text(chat, "hello")
        async with asyncio.timeout(180):
            while not [m for m in telegram_emulator.bot_messages(chat) if m.text]:
                assert bot.returncode is None, (tmp_path / "run.log").read_text()[-3000:]
                await asyncio.sleep(0.2)
        assert _children(bot.pid) == []
    finally:
        bot.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(bot.wait(), 90)
    assert code == 0, (tmp_path / "run.log").read_text()[-3000:]
