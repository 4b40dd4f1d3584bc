"""The thread worker as a process with the test-only probe tools registered besides the
built-in ones (a registry ``botctl thread-worker`` cannot take): ``python
tests/e2e/tool_worker_process.py`` with the worker's environment, through the same root."""

from __future__ import annotations

import asyncio

from actors.thread.tools.catalog import default_registry
from devkit.harness.probe_tools import PROBE_TOOLS
from infra.bootstrap import Root
from infra.logs import configure_logging
from infra.services.lifecycle import stop_event_on_signals
from infra.settings import load_settings
from infra.threads.worker import run_thread_worker


async def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    root = await Root.open(settings)
    tools = default_registry().with_tools(*PROBE_TOOLS)
    try:
        await run_thread_worker(root, stop_event_on_signals(), tools=tools)
    finally:
        await root.close()


if __name__ == "__main__":
    asyncio.run(main())
