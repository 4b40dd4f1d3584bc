"""``botctl report``: cost, revenue and margin for a date range, as CSV files and HTML."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from actors.billing.policy import format_usd
from infra.endpoints import Endpoints
from infra.postgres import connect as pg_connect
from infra.reports.queries import Section, build_sections
from infra.reports.render import period_text, to_csv, to_html


@dataclass(slots=True)
class ReportResult:
    """Where the report was written and its totals."""

    html: Path
    csv: list[Path] = field(default_factory=list)
    cost: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    stars: int = 0

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost


async def report(
    endpoints: Endpoints,
    *,
    since: datetime,
    until: datetime,
    out_dir: Path,
    schema: str = "public",
    top: int = 20,
) -> ReportResult:
    """Write ``by_day.csv``, ``by_user.csv``, ``by_model.csv``, ``tokens_by_day.csv``,
    ``by_tool.csv``, ``top_threads.csv`` and ``report.html`` into ``out_dir`` for
    ``[since, until)``."""
    conn = await pg_connect(endpoints.database_url, bulk=True)
    try:
        sections: list[Section] = await build_sections(conn, schema, since, until, top)
    finally:
        await conn.close()
    by_day = sections[0]
    result = ReportResult(html=out_dir / "report.html")
    result.cost = sum((r[1] for r in by_day.rows), Decimal(0))
    result.revenue = sum((r[2] for r in by_day.rows), Decimal(0))
    result.stars = sum(int(r[3]) for r in by_day.rows)
    totals = {
        "cost (USD)": format_usd(result.cost),
        "revenue (USD)": format_usd(result.revenue),
        "margin (USD)": format_usd(result.margin),
        "Stars (net)": f"{result.stars:,}",
    }
    subtitle = f"{period_text(since, until)} (end excluded), schema {schema}"
    page = to_html("Cost and revenue", subtitle, totals, sections)
    result.csv = await asyncio.to_thread(_write, out_dir, sections, page)
    return result


def _write(out_dir: Path, sections: list[Section], page: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for section in sections:
        path = out_dir / f"{section.name}.csv"
        path.write_text(to_csv(section), encoding="utf-8")
        paths.append(path)
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    return paths
