"""The offline demo: a typed line reaches the bot (a service process) and its answer prints."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

from infra.demo.run import run_demo
from infra.endpoints import Endpoints
from infra.settings import Settings


class Screen(io.StringIO):
    async def wait_for(self, text: str, timeout: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.getvalue():
            assert loop.time() < deadline, f"{text!r} never shown:\n{self.getvalue()}"
            await asyncio.sleep(0.1)


async def test_demo_chat_reaches_the_gateway_process(stack: Endpoints, tmp_path: Path) -> None:
    """In the demo, typing /help is answered by the gateway running as its own process."""
    read_fd, write_fd = os.pipe()
    screen = Screen()
    with os.fdopen(read_fd, "r") as stdin, os.fdopen(write_fd, "w") as keyboard:
        demo = asyncio.create_task(
            run_demo(
                stack,
                Settings(state_dir=tmp_path),
                asyncio.Event(),
                services=("gateway",),
                stdin=stdin,
                stdout=screen,
                log_dir=tmp_path / "logs",
            )
        )
        await screen.wait_for("Type a message")
        keyboard.write("/help\n")
        keyboard.flush()
        await screen.wait_for("bot: Commands:")
        keyboard.write("/topic Plans\n")
        keyboard.flush()
        await screen.wait_for("(new topic 'Plans')")
        keyboard.write("/quit\n")
        keyboard.flush()
        assert await asyncio.wait_for(demo, 60) == 0
