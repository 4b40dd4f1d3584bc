"""Liveness and readiness of one service process: ``/healthz`` and ``/readyz``.

Served beside ``/metrics`` on ``METRICS_PORT``. ``/healthz`` answers 200 while the process
serves HTTP at all (its event loop may still be starting). ``/readyz`` answers 200 only when
every readiness condition the service declared has been reported met (for example its
consumer's partitions are assigned and its database pool connected), else 503 with the
conditions still pending, as JSON, so an orchestrator routes nothing to a process that
cannot serve it yet.

Conditions are set from the service's event loop and read from the HTTP server's thread;
a lock keeps that exact. A *live* condition is a function asked at every request (it reads
flags the loop keeps, such as a Faust app's "rebalancing"), so a short rebalance between two
polls is not missed. The dependencies (broker, PostgreSQL, Redis) are probed on the loop by
:mod:`infra.dependency_watch`, which sets and clears their conditions here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any


class Readiness:
    """The named conditions a service must meet before it is ready."""

    def __init__(self, conditions: Iterable[str] | Mapping[str, str] = ()) -> None:
        """``conditions``: names, or names with why each is pending."""
        self._lock = threading.Lock()
        self._pending: dict[str, str] = (
            dict(conditions)
            if isinstance(conditions, Mapping)
            else {name: "not yet reported" for name in conditions}
        )
        self._live: dict[str, Callable[[], str | None]] = {}

    def require(self, name: str, why: str = "not yet reported") -> None:
        """Add (or re-open) a condition: the service is not ready until it is met."""
        with self._lock:
            self._pending[name] = why

    def met(self, name: str) -> None:
        with self._lock:
            self._pending.pop(name, None)

    def live(self, name: str, pending: Callable[[], str | None]) -> None:
        """A condition asked at every snapshot: ``pending()`` answers why it is not met, or
        None when it is (it must only read state, from any thread)."""
        with self._lock:
            self._live[name] = pending

    def snapshot(self) -> dict[str, str]:
        """The pending conditions and why (empty: ready)."""
        with self._lock:
            pending = dict(self._pending)
            live = list(self._live.items())
        for name, check in live:
            try:
                why = check()
            except Exception as exc:  # a check that fails says so rather than "ready"
                why = f"check failed: {exc!r}"
            if why is not None:
                pending[name] = why
        return pending


def startup_condition(service: str) -> str:
    """The condition a service meets once it can serve: its partitions assigned (every
    service but the gateway consumes), or, for the gateway, its start (polling or webhook).
    Required before the service starts, so no ``/readyz`` says ready in between."""
    return "gateway started" if service == "gateway" else f"{service} partitions"


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def health_app(metrics: WsgiApp, readiness: Readiness) -> WsgiApp:
    """A WSGI app: ``/healthz``, ``/readyz``, everything else to the metrics app."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            yield from _json(start_response, "200 OK", {"status": "alive"})
        elif path == "/readyz":
            pending = readiness.snapshot()
            status = "503 Service Unavailable" if pending else "200 OK"
            yield from _json(start_response, status, {"ready": not pending, "pending": pending})
        else:
            yield from metrics(environ, start_response)

    return app


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> Iterator[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    yield data
