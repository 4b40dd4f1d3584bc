"""``botctl topics ensure`` and ``botctl schema export``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from events import schema_export
from events.catalog import all_topics
from infra.endpoints import resolve_endpoints
from infra.kafka.topic_admin import ensure_topics
from infra.settings import load_settings


def register(commands: Any) -> Any:
    """Adds ``topics`` and ``schema``; answers the ``topics`` sub-command set for others."""
    topics = commands.add_parser("topics", help="the Kafka topics of the catalog")
    actions = topics.add_subparsers(dest="action", required=True, metavar="ACTION")
    ensure = actions.add_parser(
        "ensure", help="create missing topics and verify existing ones (idempotent)"
    )
    ensure.add_argument("--prefix", default="", help="prefix for every topic name")
    ensure.set_defaults(handler=topics_ensure)

    schema = commands.add_parser("schema", help="JSON Schemas of the topics")
    schema_actions = schema.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = schema_actions.add_parser(
        "export", help="write a JSON Schema per topic, fingerprints and golden samples"
    )
    export.add_argument("--out", type=Path, default=Path("docs/schemas"))
    export.add_argument("--golden", type=Path, default=Path("tests/golden"))
    export.add_argument(
        "--check", action="store_true", help="only compare; exit 1 on any difference"
    )
    export.set_defaults(handler=schema_exporter)
    return actions


async def topics_ensure(args: argparse.Namespace) -> int:
    endpoints = await resolve_endpoints(load_settings(), start_embedded=False)
    report = await ensure_topics(endpoints.kafka_bootstrap, all_topics(), name_prefix=args.prefix)
    for name in report.created:
        print(f"created  {name}")
    for name in report.verified:
        print(f"ok       {name}")
    for mismatch in report.mismatches:
        print(f"MISMATCH {mismatch}", file=sys.stderr)
    return 0 if report.ok else 1


async def schema_exporter(args: argparse.Namespace) -> int:
    argv = [str(args.out), str(args.golden)] + (["--check"] if args.check else [])
    return schema_export.main(argv)
