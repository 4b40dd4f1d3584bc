"""Gateway and thread worker as separate processes: Telegram updates in, answers out."""

from __future__ import annotations

import base64

import pytest
from thread_e2e import ROOT, WorkerProcess, eventually, fund, wait_ready

from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import MediaItem, TelegramEmulator
from devkit.harness.processes import stop_process
from devkit.harness.service_fork import spawn
from infra.kafka.publisher import EventPublisher
from infra.services.supervisor import botctl_argv

pytestmark = pytest.mark.slow

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def test_updates_through_gateway_and_worker(
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> None:
    """A text and an album sent in Telegram are answered: gateway -> inbox -> worker."""
    await wait_ready(thread_worker, publisher, telegram_emulator, 840001)
    claude_emulator.reset()
    gateway_log = thread_worker.log_path.with_name("gateway.log")
    gateway = spawn(botctl_argv("gateway"), thread_worker.env, ROOT, gateway_log)
    try:
        cid = 840002
        telegram_emulator.add_private_chat(cid)
        await fund(publisher, cid)
        claude_emulator.script(text_reply("Hi from **Claude**", contains="hello"))
        telegram_emulator.send_text(cid, "hello through the gateway")
        await eventually(lambda: telegram_emulator.bot_messages(cid), 60, interval=0.1)
        assert any(m.text == "Hi from Claude" for m in telegram_emulator.bot_messages(cid)), (
            thread_worker.log_path.with_name("gateway.log").read_text()[-3000:]
        )
        before = len(claude_emulator.message_requests())
        telegram_emulator.send_media_group(
            cid, [MediaItem(kind="photo", data=PNG, caption="two pics" if i == 0 else None)
                  for i in range(2)]
        )  # fmt: skip
        await eventually(lambda: len(claude_emulator.message_requests()) > before, 30)
        await eventually(
            lambda: (
                sum(1 for m in telegram_emulator.bot_messages(cid) if "two pics" in (m.text or ""))
                or None
            ),
            30,
        )
        album_requests = claude_emulator.message_requests()[before:]
        assert len(album_requests) == 1
        blocks = [b for m in album_requests[0].body["messages"] for b in m["content"]]
        assert sum(b["type"] == "image" for b in blocks) == 2
    finally:
        await stop_process(gateway)
