"""The analysts' HTML report opened in headless Chromium, by hand: do its charts render?

Run: ``.venv/bin/python bench/check_report_chromium.py [--chromium PATH] [--keep DIR]``.

The test ``tests/integration/projections/test_report_in_chromium.py`` does this on a report
built from projected records; this script renders one from sections shaped like
``botctl report``'s (cents-sized costs, user ids, token counts) and can keep the page
(``--keep``) to look at. Exit status 0 when every check of :func:`devkit.chromium.problems`
holds; each failure is named.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from devkit.chromium import find_chromium, problems, render
from infra.reports.queries import Section
from infra.reports.render import to_html

TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")


def sample_sections() -> list[Section]:
    """Sections with the columns ``botctl report`` builds and the small amounts a young bot
    has: costs in fractions of a cent."""
    cents = [Decimal("0.0117600000"), Decimal("0.0042"), Decimal("0.00051")]
    share = Decimal("0.71")
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
            "Cost by model",
            ("model", "charges", *TOKENS, "cache_read_share", "cost_usd"),
            [
                ("claude-sonnet-4-6", 3, 700, 5200, 1400, 1200, share, cents[0]),
                ("claude-haiku-4-5", 1, 15, 0, 0, 3, Decimal(0), cents[2]),
            ],
        ),
        Section(
            "tokens_by_day",
            "Tokens by day",
            ("day", *TOKENS, "cache_read_share"),
            [("2026-12-01", 715, 5200, 1400, 1203, share)],
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


async def check(chromium: str, keep: Path | None) -> int:
    folder = keep or Path(tempfile.mkdtemp(prefix="report-check-"))
    folder.mkdir(parents=True, exist_ok=True)
    page = (folder / "report.html").absolute()
    page.write_text(to_html("Report check", "sample", {"cost": "0.0117"}, sample_sections()))
    result = await render(page, chromium)
    found = problems(result, user_ids=[5301, 123456789])
    print(f"{len(result.charts)} charts rendered in {chromium}; charts per section:")
    for title, charts in result.sections.items():
        print(f"  {title}: {charts}")
    for chart in result.charts:
        print(f"  {chart.width:.0f}x{chart.height:.0f} px, {chart.bars} bars, ticks {chart.ticks}")
    print("\n".join(f"PROBLEM: {p}" for p in found) or "report check: ok")
    return 1 if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=find_chromium())
    parser.add_argument("--keep", type=Path, default=None, help="keep the page in this folder")
    args = parser.parse_args()
    if args.chromium is None:
        print("no Chromium found: apt-get install chromium (or --chromium PATH)", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(asyncio.run(check(args.chromium, args.keep)))


if __name__ == "__main__":
    main()
