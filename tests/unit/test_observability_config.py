"""The operator's view is wired to real metrics: every series the alert rules and the
Grafana dashboard query is one the services export (or Prometheus's own ``up``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

import infra.billing.metrics
import infra.billing.money_metrics  # noqa: F401  (registers the money counters)
from infra.metrics import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
PROMQL_FUNCTIONS = {
    "sum", "rate", "increase", "max", "min", "by", "histogram_quantile", "changes",
    "clamp_min", "vector", "or", "and", "le", "up", "humanizeDuration",
}  # fmt: skip


def _exported_names() -> set[str]:
    names = {"up"}
    for metric in REGISTRY.collect():
        names.add(metric.name)
        for sample in metric.samples:
            names.add(sample.name)
    # counters are exported with _total, histograms with _bucket/_sum/_count
    for name in list(names):
        names.update({name + "_total", name + "_bucket", name + "_sum", name + "_count"})
    return names


def _series(expr: str) -> set[str]:
    without_groupings = re.sub(r"\b(by|without)\s*\([^)]*\)", "", expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_groupings)
    without_strings = re.sub(r'"[^"]*"', "", without_labels)
    without_numbers = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "", without_strings)
    words = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", without_numbers))
    return {w for w in words if w not in PROMQL_FUNCTIONS and not re.fullmatch(r"\d*[smhdw]", w)}


def test_alert_rules_query_only_exported_metrics() -> None:
    """Each alert has a name, an expression and a severity, over metrics that exist."""
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert "/etc/prometheus/alerts.yml" in config["rule_files"]
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    exported = _exported_names()
    names = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            names.add(rule["alert"])
            assert rule["labels"]["severity"] in {"warning", "critical"}
            missing = _series(rule["expr"]) - exported
            assert not missing, f"{rule['alert']} queries unknown series {missing}"
    assert {"ProjectionLagHigh", "DeadLettersGrowing", "ServiceCrashLooping"} <= names
    assert "NegativeMarginDay" in names


def test_dashboard_has_the_four_rows_and_queries_only_exported_metrics() -> None:
    """Conversations, money, the log and the services, each panel over real series."""
    board = json.loads((ROOT / "deploy/grafana/dashboards/claudegram.json").read_text())
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert rows == ["Conversations", "Money", "The log", "Services"]
    exported = _exported_names()
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            missing = _series(target["expr"]) - exported
            assert not missing, f"panel {panel['title']!r} queries unknown series {missing}"


def test_dashboard_shows_active_users_negative_balances_and_rebalances() -> None:
    """Issue 16.5's usage metrics each have a panel: active users (conversations), balances
    below zero (money), rebalances by service (services)."""
    board = json.loads((ROOT / "deploy/grafana/dashboards/claudegram.json").read_text())
    row, by_row = "", {}
    for panel in board["panels"]:
        if panel["type"] == "row":
            row = panel["title"]
            continue
        for target in panel.get("targets", []):
            by_row.setdefault(row, set()).update(_series(target["expr"]))
    assert "claudegram_active_users" in by_row["Conversations"]
    assert "claudegram_balances_below_zero" in by_row["Money"]
    assert "claudegram_rebalances_total" in by_row["Services"]
    assert {"claudegram_dead_letters_total", "claudegram_projection_lag_records"} <= by_row[
        "The log"
    ]
