"""The analysts' HTML report opened in headless Chromium: do its charts render, and read well?

Run: ``.venv/bin/python bench/check_report_chromium.py [--chromium PATH] [--keep DIR]``.

Needs a Chromium on the machine (Debian: ``apt-get install chromium``); the project cannot
fetch one itself here (playwright and pyppeteer download their browser from a CDN, not from
a package registry), so this is a check script rather than a test of ``./dev test``.

It renders a report page with ``infra.reports.render.to_html`` from sections shaped like
``botctl report``'s (cents-sized costs, user ids, token counts), opens it in headless
Chromium through the DevTools protocol, and checks in the rendered page: every chart is an
SVG laid out at a non-zero size, every bar has a height, the axis tick labels of each chart
are all different (no "0.00, 0.00, 0.00"), no user id is printed with a thousands separator,
no token count with decimals. Exit status 0 when every check holds; each failure is named.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from infra.reports.queries import Section
from infra.reports.render import to_html

PROBE = """(() => {
  const charts = [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    const bars = [...svg.querySelectorAll('rect')].filter(r => r.querySelector('title'));
    const ticks = [...svg.querySelectorAll('text[text-anchor="end"]')].map(t => t.textContent);
    return {width: box.width, height: box.height, bars: bars.length,
            flat: bars.filter(r => r.getBBox().height <= 0).length, ticks};
  });
  const cells = [...document.querySelectorAll('td')].map(td => td.textContent);
  return JSON.stringify({charts, cells});
})()"""


def sample_sections() -> list[Section]:
    """Sections with the columns ``botctl report`` builds (``infra/reports/queries.py``) and
    the small amounts a young bot has: costs in fractions of a cent."""
    cents = [Decimal("0.0117600000"), Decimal("0.0042"), Decimal("0.00051")]
    return [
        Section(
            "by_day",
            "Cost and revenue by day",
            ("day", "cost_usd", "revenue_usd", "stars", "margin_usd"),
            [("2026-12-01", cents[0], Decimal("0.065"), 10, Decimal("0.05324"))],
        ),
        Section(
            "by_user",
            "Cost and revenue by user",
            ("user_id", "username", "cost_usd", "revenue_usd", "stars", "margin_usd"),
            [
                (5301, "ann", cents[0], Decimal(0), 0, -cents[0]),
                (123456789, "", cents[1], Decimal("0.065"), 10, Decimal("0.0608")),
            ],
        ),
        Section(
            "by_model",
            "Usage by model",
            (
                "model",
                "charges",
                "input_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
                "output_tokens",
                "cache_read_share",
                "cost_usd",
            ),
            [
                ("claude-sonnet-4-6", 3, 700, 5200, 1400, 1200, Decimal("0.71"), cents[0]),
                ("claude-haiku-4-5", 1, 15, 0, 0, 3, Decimal(0), cents[2]),
            ],
        ),
        Section(
            "by_tool",
            "Cost by tool",
            ("tool", "charges", "cost_usd"),
            [("web_search", 2, Decimal("0.02")), ("estimate_cost", 1, Decimal(0))],
        ),
        Section(
            "top_threads",
            "Top 10 threads by cost",
            ("thread_key", "title", "turns", "cost_usd"),
            [("5301:0", "Kiwi facts", 3, cents[0])],
        ),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def evaluate(port: int, url: str) -> dict[str, Any]:
    """Open ``url`` in the running Chromium and evaluate :data:`PROBE` once it has loaded."""
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.put(f"http://127.0.0.1:{port}/json/new?{url}") as r:
                    target = await r.json()
                break
            except aiohttp.ClientError:
                await asyncio.sleep(0.2)
        else:
            raise RuntimeError("Chromium's DevTools endpoint did not answer")
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            for attempt in range(50):
                await ws.send_json(
                    {
                        "id": attempt,
                        "method": "Runtime.evaluate",
                        "params": {"expression": PROBE, "returnByValue": True},
                    }
                )
                while True:
                    reply = await ws.receive_json()
                    if reply.get("id") == attempt:
                        break
                value = reply.get("result", {}).get("result", {}).get("value")
                if value and json.loads(value)["charts"]:
                    return dict(json.loads(value))
                await asyncio.sleep(0.2)
    raise RuntimeError("the page never showed a chart")


def problems(page: dict[str, Any]) -> list[str]:
    found = []
    for n, chart in enumerate(page["charts"]):
        if chart["width"] <= 0 or chart["height"] <= 0:
            found.append(f"chart {n} is not laid out ({chart['width']}x{chart['height']})")
        if chart["bars"] == 0 or chart["flat"]:
            found.append(f"chart {n}: {chart['bars']} bars, {chart['flat']} of no height")
        if len(set(chart["ticks"])) != len(chart["ticks"]):
            found.append(f"chart {n}: repeated tick labels {chart['ticks']}")
    cells = page["cells"]
    if "5,301" in cells or "123,456,789" in cells:
        found.append("a user id printed with thousands separators")
    if any(c.endswith(".0000") for c in cells):
        found.append("a count printed with decimals")
    return found


async def check(chromium: str, keep: Path | None) -> int:
    folder = keep or Path(tempfile.mkdtemp(prefix="report-check-"))
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "report.html"
    page.write_text(to_html("Report check", "sample", {"cost": "$0.02"}, sample_sections()))
    port = free_port()
    browser = await asyncio.create_subprocess_exec(
        chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
        f"--user-data-dir={folder / 'profile'}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        result = await evaluate(port, page.as_uri())
    finally:
        browser.terminate()
        await browser.wait()
    found = problems(result)
    print(f"{len(result['charts'])} charts rendered in {chromium}; ticks:")
    for chart in result["charts"]:
        print(f"  {chart['width']:.0f}x{chart['height']:.0f} px, {chart['bars']} bars, "
              f"ticks {chart['ticks']}")  # fmt: skip
    print("\n".join(f"PROBLEM: {p}" for p in found) or "report check: ok")
    return 1 if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--keep", type=Path, default=None, help="keep the page in this folder")
    args = parser.parse_args()
    if shutil.which(args.chromium) is None and not Path(args.chromium).is_file():
        print("no Chromium found: apt-get install chromium (or --chromium PATH)", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(asyncio.run(check(args.chromium, args.keep)))


if __name__ == "__main__":
    main()
