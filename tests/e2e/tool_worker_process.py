"""The thread worker as a process with the test-only probe tools registered besides the
built-in ones: ``python tests/e2e/tool_worker_process.py`` with the worker's environment."""

from __future__ import annotations

import asyncio

from actors.thread.tools.catalog import default_registry
from devkit.harness.probe_tools import PROBE_TOOLS
from infra.endpoints import resolve_endpoints
from infra.logs import configure_logging
from infra.services.lifecycle import stop_event_on_signals
from infra.settings import load_settings
from infra.threads.worker import run_thread_worker


async def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    endpoints = await resolve_endpoints(settings, start_embedded=False)
    tools = default_registry().with_tools(*PROBE_TOOLS)
    await run_thread_worker(endpoints, settings, stop_event_on_signals(), tools=tools)


if __name__ == "__main__":
    asyncio.run(main())
