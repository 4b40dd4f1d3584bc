"""Analysts' and operators' commands over the read side: replay, verify, report, lag.

The projector and report modules are imported by the handlers, so that every other
``botctl`` command (each service process among them) does not load them at start-up."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from actors.billing.policy import format_usd
from infra.bootstrap import Root
from infra.endpoints import resolve_endpoints
from infra.services.lifecycle import stop_event_on_signals
from infra.settings import ConfigError, load_settings


def _timestamp(text: str) -> datetime:
    """An ISO 8601 date or time; without a zone it is taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2026-05-01T12:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(commands: Any, topics_actions: Any) -> None:
    rebuild = commands.add_parser(
        "replay", help="rebuild projections from offset zero in bulk (COPY), then optionally tail"
    )
    rebuild.add_argument("--projection", help="comma-separated projection names (default: all)")
    rebuild.add_argument("--until", type=_timestamp, help="state as of this time (UTC)")
    rebuild.add_argument("--into", dest="into_schema", help="schema to build into")
    rebuild.add_argument("--swap", action="store_true", help="swap the rebuild in atomically")
    rebuild.add_argument("--schema", default="public", help="the live schema (default: public)")
    rebuild.add_argument("--follow", action="store_true", help="then tail live until Ctrl-C")
    rebuild.add_argument("--prefix", default="", help="topic name prefix")
    rebuild.add_argument(
        "--retry-dead-letters",
        action="store_true",
        help="apply again the records the live projector dead-lettered (after a fix)",
    )
    rebuild.set_defaults(handler=replay_cmd)

    check = commands.add_parser(
        "verify", help="rebuild into a scratch schema and compare it with the live one"
    )
    check.add_argument("--schema", default="public")
    check.add_argument("--projection", help="comma-separated projection names (default: all)")
    check.add_argument("--prefix", default="", help="topic name prefix")
    check.set_defaults(handler=verify_cmd)

    rep = commands.add_parser(
        "report", help="cost, revenue and margin by day, user, model and tool (CSV + HTML)"
    )
    rep.add_argument("--since", type=_timestamp, help="start (default: 30 days ago)")
    rep.add_argument("--until", type=_timestamp, help="end, exclusive (default: now)")
    rep.add_argument("--out", type=Path, default=Path("report"), help="output folder")
    rep.add_argument("--schema", default="public")
    rep.add_argument("--top", type=int, default=20, help="how many top threads")
    rep.set_defaults(handler=report_cmd)

    behind = topics_actions.add_parser("lag", help="each projection's lag (records, seconds)")
    behind.add_argument("--schema", default="public")
    behind.add_argument("--projection")
    behind.add_argument("--prefix", default="", help="topic name prefix")
    behind.set_defaults(handler=lag_cmd)


async def _root() -> Root:
    """The command's root: endpoints resolved and the broker probed, once."""
    return await Root.open(load_settings())


async def replay_cmd(args: argparse.Namespace) -> int:
    from infra.projector.replay import replay

    if args.swap and args.until:
        raise ConfigError("--swap with --until would replace the live state with a past one")
    stop = stop_event_on_signals() if args.follow else None
    root = await _root()
    result = await replay(
        root.endpoints,
        profile=await root.profile(),
        projection=args.projection,
        until=args.until,
        into_schema=args.into_schema,
        swap=args.swap,
        target_schema=args.schema,
        topic_prefix=args.prefix,
        follow=args.follow,
        stop=stop,
        retry_dead_letters=args.retry_dead_letters,
    )
    print(
        f"rebuilt {', '.join(result.projections)} into {result.schema}: {result.records} records "
        f"in {result.seconds:.1f}s ({result.records_per_second:,.0f}/s)"
    )
    for table, rows in sorted(result.rows.items()):
        print(f"  {table:<20} {rows:>10} rows")
    for letter in result.dead_letters:
        print(f"  skipped: {letter.describe()}")
    if result.swapped_into:
        print(f"swapped into {result.swapped_into}")
    return 0


async def verify_cmd(args: argparse.Namespace) -> int:
    from infra.projector.verify import verify

    root = await _root()
    outcome = await verify(
        root.endpoints,
        schema=args.schema,
        projection=args.projection,
        topic_prefix=args.prefix,
        profile=await root.profile(),
    )
    print(outcome.summary(), file=sys.stdout if outcome.ok else sys.stderr)
    return 0 if outcome.ok else 1


async def report_cmd(args: argparse.Namespace) -> int:
    from infra.reports.report import report

    until = args.until or datetime.now(UTC)
    since = args.since or until - timedelta(days=30)
    if since >= until:
        raise ConfigError(f"--since {since.isoformat()} is not before --until {until.isoformat()}")
    result = await report(
        await resolve_endpoints(load_settings(), start_embedded=False),
        since=since,
        until=until,
        out_dir=args.out,
        schema=args.schema,
        top=args.top,
    )
    print(
        f"cost ${format_usd(result.cost)}  revenue ${format_usd(result.revenue)} "
        f"({result.stars:,} stars)  margin ${format_usd(result.margin)}"
    )
    print(f"wrote {result.html}")
    for path in result.csv:
        print(f"wrote {path}")
    return 0


async def lag_cmd(args: argparse.Namespace) -> int:
    from infra.projector.lag import format_lag, lag

    root = await _root()
    lags = await lag(
        root.endpoints,
        schema=args.schema,
        topic_prefix=args.prefix,
        projection=args.projection,
        profile=await root.profile(),
    )
    print(format_lag(lags))
    return 0
