"""A page opened in headless Chromium, and what its charts and tables look like once laid out.

Chromium is the system's (Debian: ``apt-get install chromium``; ``.ci/run`` installs it when it
runs as root): every PyPI or npm route to a browser downloads it from a CDN. Driven through
its DevTools protocol over HTTP and a WebSocket (aiohttp), with no driver package.

:func:`render` opens a file and answers, per inline SVG chart, its laid-out size, its bars
(rectangles with a ``<title>``) and how many have no height, and its axis tick labels; and
the text of every table cell and summary card. :func:`problems` names what reads badly.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

PROBE = """(() => {
  const charts = [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    const bars = [...svg.querySelectorAll('rect')].filter(r => r.querySelector('title'));
    const ticks = [...svg.querySelectorAll('text[text-anchor="end"]')].map(t => t.textContent);
    return {width: box.width, height: box.height, bars: bars.length,
            flat: bars.filter(r => r.getBBox().height <= 0).length, ticks};
  });
  const cells = [...document.querySelectorAll('td')].map(td => td.textContent);
  const cards = [...document.querySelectorAll('.card .v')].map(v => v.textContent);
  const subtitle = (document.querySelector('h1 + p') || {}).textContent || '';
  const sections = Object.fromEntries([...document.querySelectorAll('section')].map(
    s => [s.querySelector('h2').textContent, s.querySelectorAll('svg').length]));
  const loaded = document.readyState === 'complete';
  return JSON.stringify({charts, cells, cards, subtitle, sections, loaded});
})()"""


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    bars: int
    flat: int
    ticks: list[str]


@dataclass(frozen=True)
class Page:
    """What a rendered page shows."""

    charts: list[Chart]
    cells: list[str]
    cards: list[str]
    subtitle: str
    sections: dict[str, int]
    """Charts per section, by the section's title."""


def find_chromium() -> str | None:
    """The system's Chromium (``chromium``, ``chromium-browser``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def render(page: Path, chromium: str, *, timeout: float = 120.0) -> Page:
    """Open ``page`` (an absolute path) in a headless ``chromium`` of its own and read it
    once charts show."""
    port = _free_port()
    # Chromium's helper processes may still write into the profile a moment after the
    # browser exits ("Directory not empty" from the clean-up once in CI): not an error here
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        browser = await asyncio.create_subprocess_exec(
            chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            async with asyncio.timeout(timeout):
                value = await _evaluate(port, page.as_uri())
        finally:
            browser.terminate()
            await browser.wait()
    return Page(
        charts=[Chart(**c) for c in value["charts"]],
        cells=list(value["cells"]),
        cards=list(value["cards"]),
        subtitle=str(value["subtitle"]),
        sections={str(k): int(v) for k, v in value["sections"].items()},
    )


async def _evaluate(port: int, url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.put(f"http://127.0.0.1:{port}/json/new?{url}") as r:
                    target = await r.json()
                break
            except aiohttp.ClientError:  # the browser is still starting
                await asyncio.sleep(0.2)
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            attempt = 0
            while True:
                attempt += 1
                params = {"expression": PROBE, "returnByValue": True}
                await ws.send_json({"id": attempt, "method": "Runtime.evaluate", "params": params})
                reply = await ws.receive_json()
                while reply.get("id") != attempt:
                    reply = await ws.receive_json()
                text = reply.get("result", {}).get("result", {}).get("value")
                read = json.loads(text) if text else {}
                # the whole document, not its first chart: on a loaded machine Chromium was
                # once read while parsing, and the later sections were missing (CI)
                if read.get("loaded") and read["charts"]:
                    return dict(read)
                await asyncio.sleep(0.2)  # not loaded yet


def problems(page: Page, *, user_ids: Sequence[int] = ()) -> list[str]:
    """What reads badly: charts not laid out, bars of no height, repeated tick labels
    ("0.00, 0.00, 0.00"), user ids printed with thousands separators, counts with decimals
    ("700.0000"), money with more than four decimals ("$0.0117600000"), a raw ISO period."""
    found = []
    for n, chart in enumerate(page.charts):
        if chart.width <= 0 or chart.height <= 0:
            found.append(f"chart {n} is not laid out ({chart.width}x{chart.height})")
        if chart.bars == 0 or chart.flat:
            found.append(f"chart {n}: {chart.bars} bars, {chart.flat} of no height")
        if len(set(chart.ticks)) != len(chart.ticks):
            found.append(f"chart {n}: repeated tick labels {chart.ticks}")
    for uid in user_ids:
        if f"{uid:,}" != str(uid) and f"{uid:,}" in page.cells:
            found.append(f"user id {uid} printed as {uid:,}")
    found += [f"a count with decimals: {c!r}" for c in page.cells if c.endswith(".0000")]
    money = re.compile(r"\d\.\d{5,}")
    found += [f"money with too many decimals: {v!r}" for v in page.cards if money.search(v)]
    if re.search(r"T\d\d:\d\d|\.\d{6}|\+00:00", page.subtitle):
        found.append(f"the period is raw ISO: {page.subtitle!r}")
    return found
