"""``botctl emulators``: the local Telegram Bot API and Claude API emulators."""

from __future__ import annotations

import argparse
from typing import Any

from infra.emulators.runner import RunningEmulators, serve_emulators
from infra.emulators.telegram import DEFAULT_TOKEN
from infra.services.lifecycle import stop_event_on_signals


def register(commands: Any) -> None:
    emulators = commands.add_parser(
        "emulators", help="run the Telegram Bot API and Claude API emulators until Ctrl-C"
    )
    emulators.add_argument("--host", default="127.0.0.1")
    emulators.add_argument("--telegram-port", type=int, default=0)
    emulators.add_argument("--claude-port", type=int, default=0)
    emulators.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token to expect")
    emulators.add_argument("--no-flood", action="store_true", help="no Telegram flood control")
    emulators.set_defaults(handler=run_emulators)


def _print_env(running: RunningEmulators) -> None:
    for name, value in running.env.items():
        print(f"{name}={value}", flush=True)


async def run_emulators(args: argparse.Namespace) -> int:
    await serve_emulators(
        host=args.host,
        telegram_port=args.telegram_port,
        claude_port=args.claude_port,
        token=args.token,
        flood=not args.no_flood,
        on_ready=_print_env,
        stop=stop_event_on_signals(),
    )
    return 0
