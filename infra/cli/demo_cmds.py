"""``botctl demo``: the whole bot offline against the emulators, with a terminal chat."""

from __future__ import annotations

import argparse
from typing import Any

from infra.cli.dev_package import dev_package_missing
from infra.endpoints import resolve_endpoints
from infra.kafka.compat import probe_broker
from infra.services.lifecycle import stop_event_on_signals
from infra.settings import load_settings
from infra.stack.embedded import EmbeddedStack


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the bot offline (emulated Telegram and Claude) and chat with it here",
    )
    demo.add_argument("--user-id", type=int, help="your Telegram user id (default: 424242)")
    demo.add_argument("--flood", action="store_true", help="emulate Telegram flood control")
    demo.set_defaults(handler=demo_cmd)


async def demo_cmd(args: argparse.Namespace) -> int:
    if dev_package_missing("demo"):
        return 2
    from infra.demo.run import DEMO_USER, run_demo  # the emulators load only for the demo

    settings = load_settings()
    endpoints = await resolve_endpoints(settings, start_embedded=True)
    try:
        await probe_broker(endpoints.kafka_bootstrap, settings.broker_compat)
        return await run_demo(
            endpoints,
            settings,
            stop_event_on_signals(),
            user_id=args.user_id or DEMO_USER,
            flood=args.flood,
        )
    finally:
        if endpoints.embedded:
            EmbeddedStack(settings.state_dir, settings=settings).stop()
