"""``botctl``: one entry point for the stack, the services and the tools.

Every failure the user can fix (bad configuration, an unreachable broker, a stack that will
not start) ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from infra.cli import (
    chaos_cmds,
    db_cmds,
    demo_cmds,
    emulator_cmds,
    kafka_cmds,
    log_cmds,
    read_cmds,
    stack_cmds,
    topics_cmds,
)
from infra.kafka.compat import BrokerUnreachable
from infra.migrations import MigrationError
from infra.settings import ConfigError
from infra.stack.binaries import MissingBinary
from infra.stack.embedded import StackError

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]

USER_ERRORS = (ConfigError, StackError, BrokerUnreachable, MissingBinary, MigrationError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="botctl", description="Telegram assistant for Claude: an event-sourced actor system"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    stack_cmds.register(commands)
    db_cmds.register(commands)
    topics_actions = topics_cmds.register(commands)
    read_cmds.register(commands, topics_actions)
    log_cmds.register(commands, topics_actions)
    emulator_cmds.register(commands)
    demo_cmds.register(commands)
    kafka_cmds.register(commands)
    chaos_cmds.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return asyncio.run(handler(args))
    except USER_ERRORS as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"botctl: error: {first_line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
