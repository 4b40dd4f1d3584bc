"""Running a service until SIGTERM or SIGINT, and the placeholder for services not yet built."""

from __future__ import annotations

import asyncio
import logging
import signal

from infra.endpoints import Endpoints

log = logging.getLogger(__name__)


def stop_event_on_signals() -> asyncio.Event:
    """An event set by the first SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def idle_service(name: str, endpoints: Endpoints, stop: asyncio.Event) -> None:
    """A service whose behaviour has not landed yet: it starts, reports ready, and idles."""
    log.info(
        "service ready (placeholder: no behaviour yet)",
        extra={"fields": {"service": name, "kafka": endpoints.kafka_bootstrap}},
    )
    await stop.wait()
    log.info("service stopped", extra={"fields": {"service": name}})
