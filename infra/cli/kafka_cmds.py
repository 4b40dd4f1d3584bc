"""``botctl kafka TOOL [ARGS...]``: Kafka's own command-line tools against the configured
cluster (the embedded stack's broker unless KAFKA_BOOTSTRAP_SERVERS is set)."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
from typing import Any

from infra.endpoints import resolve_endpoints
from infra.settings import load_settings
from infra.stack.embedded import EmbeddedStack, StackError
from infra.stack.kafka_tools import OFFLINE_TOOLS, TOOLS, tool_argv, tool_name


def register(commands: Any) -> None:
    kafka = commands.add_parser(
        "kafka",
        help="run one of Kafka's own tools (kafka-topics, kafka-consumer-groups, ...)",
        description="Runs Kafka's own command-line tool from the pinned jars, with "
        "--bootstrap-server set to the configured cluster. Tools: " + ", ".join(TOOLS),
    )
    kafka.add_argument("tool", help="e.g. kafka-topics (or just topics)")
    kafka.add_argument("args", nargs=argparse.REMAINDER, help="the tool's own arguments")
    kafka.set_defaults(handler=kafka_tool)


async def kafka_tool(args: argparse.Namespace) -> int:
    name = tool_name(args.tool)
    if name not in TOOLS:
        raise StackError(f"unknown Kafka tool {args.tool!r}; one of: {', '.join(TOOLS)}")
    settings = load_settings()
    bootstrap = None
    if name not in OFFLINE_TOOLS:
        endpoints = await resolve_endpoints(settings, start_embedded=False)
        bootstrap = endpoints.kafka_bootstrap
    runtime = await asyncio.to_thread(
        EmbeddedStack(settings.state_dir, settings=settings).kafka_runtime
    )
    argv = tool_argv(runtime, name, args.args, bootstrap)
    return await asyncio.to_thread(lambda: subprocess.run(argv).returncode)
