"""Runs the gateway (part A) as its own process on a topic prefix, for the end-to-end tests:
``python tests/e2e/gateway_process.py`` with the bot's environment and ``THREAD_TOPIC_PREFIX``."""

from __future__ import annotations

import asyncio
import os

from infra.endpoints import resolve_endpoints
from infra.gateway.app import run_gateway
from infra.logs import configure_logging
from infra.services.lifecycle import stop_event_on_signals
from infra.settings import load_settings


async def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level, secrets=settings.secret_values())
    endpoints = await resolve_endpoints(settings, start_embedded=False)
    await run_gateway(
        endpoints,
        settings,
        stop_event_on_signals(),
        topic_prefix=os.environ.get("THREAD_TOPIC_PREFIX", ""),
        polling_timeout=1,
    )


if __name__ == "__main__":
    asyncio.run(main())
