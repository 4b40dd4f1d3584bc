"""Helpers shared by the billing integration tests (topic reading: devkit.harness.topics)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from devkit.harness.topics import eventually
from infra.billing.worker import BillingWorker

ADMIN_IDS = frozenset({1, 9001})
"""The privileged user ids the test workers are configured with."""

WorkerFactory = Callable[..., contextlib.AbstractAsyncContextManager[BillingWorker]]
"""``billing_worker(**options)``: a running, ready worker (the conftest's fixture)."""


async def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll a condition (cheap, in-process) until it holds (billing's default: 60 s)."""
    await eventually(predicate, timeout)


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at
