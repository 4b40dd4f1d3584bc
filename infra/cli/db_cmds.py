"""``botctl db migrate``."""

from __future__ import annotations

import argparse
from typing import Any

from infra.endpoints import resolve_endpoints
from infra.migrations import migrate
from infra.postgres import connect as pg_connect
from infra.settings import load_settings


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="the PostgreSQL read models")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("migrate", help="apply pending SQL migrations")
    up.add_argument("--schema", default="public", help="target schema (default: public)")
    up.set_defaults(handler=db_migrate)


async def db_migrate(args: argparse.Namespace) -> int:
    endpoints = await resolve_endpoints(load_settings(), start_embedded=False)
    conn = await pg_connect(endpoints.database_url, bulk=True)
    try:
        applied = await migrate(conn, args.schema)
    finally:
        await conn.close()
    print(f"applied: {', '.join(applied)}" if applied else "up to date")
    return 0
