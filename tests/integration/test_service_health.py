"""A service's /healthz, /readyz and /metrics on its metrics port, over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from infra.metrics import serve_metrics
from infra.service_health import Readiness
from infra.stack.ports import free_port


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_readyz_is_503_until_every_condition_is_met_while_healthz_is_200() -> None:
    """Liveness does not wait for readiness; readiness names what is still pending."""
    readiness = Readiness(["partitions assigned", "postgres connected"])
    port = free_port()
    serve_metrics(port, readiness)

    assert _get(port, "/healthz")[0] == 200
    status, body = _get(port, "/readyz")
    assert status == 503
    assert set(json.loads(body)["pending"]) == {"partitions assigned", "postgres connected"}

    readiness.met("postgres connected")
    readiness.met("partitions assigned")
    status, body = _get(port, "/readyz")
    assert (status, json.loads(body)["ready"]) == (200, True)

    readiness.require("partitions assigned", "rebalancing")
    status, body = _get(port, "/readyz")
    assert status == 503
    assert json.loads(body)["pending"] == {"partitions assigned": "rebalancing"}

    status, body = _get(port, "/metrics")
    assert status == 200
    assert b"claudegram_turns_total" in body


def test_a_live_condition_is_asked_at_every_request() -> None:
    """A live condition (a Faust app's assignment) is read at each /readyz, so a rebalance
    between two polls shows; a check that raises says so instead of reporting ready."""
    readiness = Readiness()
    state: dict[str, str | None] = {"why": "rebalancing"}
    readiness.live("thread-worker partitions", lambda: state["why"])
    port = free_port()
    serve_metrics(port, readiness)
    status, body = _get(port, "/readyz")
    assert (status, json.loads(body)["pending"]) == (
        503,
        {"thread-worker partitions": "rebalancing"},
    )
    state["why"] = None
    assert _get(port, "/readyz")[0] == 200
    readiness.live("broken", lambda: 1 / 0)  # type: ignore[arg-type, return-value]
    status, body = _get(port, "/readyz")
    assert status == 503
    assert json.loads(body)["pending"]["broken"].startswith("check failed: ZeroDivisionError")
