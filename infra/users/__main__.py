"""``python -m infra.users --bootstrap HOST:PORT [--prefix P]``: run the users actor alone
(tests start it as a subprocess; ``botctl users-worker`` is the normal entry point)."""

from __future__ import annotations

import argparse
import asyncio

from infra.endpoints import Endpoints
from infra.logs import configure_logging
from infra.services.lifecycle import stop_event_on_signals
from infra.users.worker import run_users_worker


async def _main(bootstrap: str, prefix: str) -> None:
    stop = stop_event_on_signals()
    endpoints = Endpoints(bootstrap, "", "", embedded=False)
    await run_users_worker(endpoints, None, stop, topic_prefix=prefix)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.users", description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", default="")
    args = parser.parse_args(argv)
    configure_logging("INFO")
    asyncio.run(_main(args.bootstrap, args.prefix))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
