"""`python -m devkit.emulators`: run the emulators and print the environment that selects them."""

from __future__ import annotations

import argparse
import asyncio
import sys

from devkit.emulators.runner import RunningEmulators, serve_emulators
from devkit.emulators.telegram import DEFAULT_TOKEN


def _print_env(running: RunningEmulators) -> None:
    for key, value in running.env.items():
        print(f"{key}={value}")
    print("# control: <url>/_control/... ; Ctrl-C to stop", file=sys.stderr)
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit.emulators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--telegram-port", type=int, default=0)
    parser.add_argument("--claude-port", type=int, default=0)
    parser.add_argument("--whisper-port", type=int, default=0)
    parser.add_argument("--gemini-port", type=int, default=0)
    parser.add_argument("--e2b-port", type=int, default=0)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token to expect")
    parser.add_argument("--no-flood", action="store_true", help="disable Telegram flood control")
    args = parser.parse_args(argv)
    asyncio.run(
        serve_emulators(
            host=args.host,
            telegram_port=args.telegram_port,
            claude_port=args.claude_port,
            token=args.token,
            flood=not args.no_flood,
            whisper_port=args.whisper_port,
            gemini_port=args.gemini_port,
            e2b_port=args.e2b_port,
            on_ready=_print_env,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
