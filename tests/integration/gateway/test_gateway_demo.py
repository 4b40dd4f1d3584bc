"""The offline demo: a typed line reaches the bot (a service process) and its answer prints;
buttons print numbered and can be pressed; an invoice prints and can be paid."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

from infra.demo.run import run_demo
from infra.endpoints import Endpoints
from infra.settings import Settings


class Screen(io.StringIO):
    async def wait_for(self, text: str, timeout: float = 60.0, *, after: int = 0) -> int:
        """Wait until ``text`` shows (past position ``after``); answers the end of it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (at := self.getvalue().find(text, after)) < 0:
            assert loop.time() < deadline, f"{text!r} never shown:\n{self.getvalue()}"
            await asyncio.sleep(0.1)
        return at + len(text)


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


async def test_demo_buttons_and_payment(stack: Endpoints, tmp_path: Path) -> None:
    """In the demo, /model's buttons print numbered and /press ticks the chosen model; /pay's
    package button yields an invoice, and /paynow pays it (pre-checkout, then payment);
    /reply answers the custom amount prompt."""
    read_fd, write_fd = os.pipe()
    screen = Screen()
    with os.fdopen(read_fd, "r") as stdin, os.fdopen(write_fd, "w") as keyboard:

        def type_(line: str) -> None:
            keyboard.write(line + "\n")
            keyboard.flush()

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
        type_("/press 1")
        await screen.wait_for("(no message with buttons yet)")
        type_("/model")
        at = await screen.wait_for("bot: Choose the model")
        at = await screen.wait_for("    [3] ", after=at)
        type_("/press opus")
        at = await screen.wait_for("(you pressed 'Claude Opus 4.6')", after=at)
        at = await screen.wait_for("bot (edited): Model set to Claude Opus 4.6", after=at)
        await screen.wait_for("[3] ✓ Claude Opus 4.6", after=at)

        type_("/paynow")
        at = await screen.wait_for("(no invoice yet: /pay first)", after=at)
        type_("/pay")
        at = await screen.wait_for("bot: Choose how many Telegram Stars to buy:", after=at)
        at = await screen.wait_for("[1] ", after=at)
        type_("/press 1")
        at = await screen.wait_for("bot: invoice: ", after=at)
        at = await screen.wait_for(" XTR    (/paynow pays it)", after=at)
        type_("/paynow")
        at = await screen.wait_for("(you paid ", after=at)
        at = await screen.wait_for("bot: Thank you! ", after=at)
        type_("/paynow")
        at = await screen.wait_for("(the latest invoice is paid already", after=at)
        type_("/pay")
        at = await screen.wait_for("bot: Choose how many Telegram Stars to buy:", after=at)
        at = await screen.wait_for("[1] ", after=at)
        type_("/press custom amount")
        at = await screen.wait_for("(you pressed 'Custom amount')", after=at)
        at = await screen.wait_for("Reply to this message with a number.", after=at)
        type_("/reply 20")
        await screen.wait_for("amount: 20 XTR", after=at)
        type_("/quit")
        assert await asyncio.wait_for(demo, 60) == 0
