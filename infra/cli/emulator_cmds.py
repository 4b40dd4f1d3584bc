"""``botctl emulators``: the local Telegram Bot API, Claude API and provider emulators."""

from __future__ import annotations

import argparse
from typing import Any

from infra.cli.dev_package import dev_package_missing
from infra.services.lifecycle import stop_event_on_signals


def register(commands: Any) -> None:
    emulators = commands.add_parser(
        "emulators",
        help="run the Telegram, Claude, OpenAI audio, Gemini and E2B emulators until Ctrl-C",
    )
    emulators.add_argument("--host", default="127.0.0.1")
    emulators.add_argument("--telegram-port", type=int, default=0)
    emulators.add_argument("--claude-port", type=int, default=0)
    emulators.add_argument("--whisper-port", type=int, default=0)
    emulators.add_argument("--gemini-port", type=int, default=0)
    emulators.add_argument("--e2b-port", type=int, default=0)
    emulators.add_argument("--token", help="the bot token to expect (default: the emulator's)")
    emulators.add_argument("--no-flood", action="store_true", help="no Telegram flood control")
    emulators.set_defaults(handler=run_emulators)


async def run_emulators(args: argparse.Namespace) -> int:
    if dev_package_missing("emulators"):
        return 2
    # Imported here: the emulators are test tooling (the dev package), not in production.
    from devkit.emulators.runner import RunningEmulators, serve_emulators
    from devkit.emulators.telegram import DEFAULT_TOKEN

    def print_env(running: RunningEmulators) -> None:
        for name, value in running.env.items():
            print(f"{name}={value}", flush=True)

    await serve_emulators(
        host=args.host,
        telegram_port=args.telegram_port,
        claude_port=args.claude_port,
        token=args.token or DEFAULT_TOKEN,
        flood=not args.no_flood,
        whisper_port=args.whisper_port,
        gemini_port=args.gemini_port,
        e2b_port=args.e2b_port,
        on_ready=print_env,
        stop=stop_event_on_signals(),
    )
    return 0
