"""A minimal Faust worker for the broker-compatibility tests: copies a topic into a table and
writes the table to a JSON file every 200 ms. Configured by environment variables."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from infra.faust_app import make_faust_app
from infra.kafka.compat import probe_broker

BOOTSTRAP = os.environ["PROBE_BOOTSTRAP"]
PREFIX = os.environ["PROBE_PREFIX"]
OUT = Path(os.environ["PROBE_OUT"])

profile = asyncio.run(probe_broker(BOOTSTRAP, os.environ.get("BROKER_COMPAT", "auto")))
app = make_faust_app(
    f"{PREFIX}probe", BOOTSTRAP, profile, data_dir=OUT.parent / "faust", topic_partitions=4
)
source = app.topic(f"{PREFIX}source", key_type=str, value_type=str, partitions=4)
table = app.Table(f"{PREFIX}values", default=str, partitions=4)


@app.agent(source)
async def copy(stream):  # type: ignore[no-untyped-def]
    async for key, value in stream.items():
        table[key] = value


@app.timer(0.2)
async def dump() -> None:
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(table.items())))
    tmp.replace(OUT)


if __name__ == "__main__":
    app.main()
