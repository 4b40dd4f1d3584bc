"""``python -m infra.projector``: one projector process with explicit endpoints (tests, ops).

Stops on SIGTERM/SIGINT. ``botctl projector`` is the usual entry point; this one takes the
endpoints on the command line so a test can start, kill and restart a real process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from infra.endpoints import Endpoints
from infra.projector.runner import run_projector
from infra.services.lifecycle import stop_event_on_signals


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.projector")
    parser.add_argument("--kafka", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--topic-prefix", default="")
    parser.add_argument("--schema", default="public")
    parser.add_argument("--cache-prefix", default="cg:")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--batch-ms", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    async def run() -> None:
        stop = stop_event_on_signals()
        endpoints = Endpoints(args.kafka, args.database_url, args.redis_url, embedded=False)
        await run_projector(
            endpoints,
            None,
            stop,
            topic_prefix=args.topic_prefix,
            schema=args.schema,
            batch_size=args.batch_size,
            batch_ms=args.batch_ms,
            cache_prefix=args.cache_prefix,
        )

    asyncio.run(run())


if __name__ == "__main__":
    main()
