"""Rendering report sections: one CSV file per section and one self-contained HTML page
with inline SVG bar charts (no scripts, no network)."""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from actors.billing.policy import format_usd
from infra.reports.queries import Section

IDENTIFIER_COLUMNS = frozenset({"user_id", "username", "thread_key", "title", "model", "tool"})


def to_csv(section: Section) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(section.columns)
    writer.writerows(section.rows)
    return out.getvalue()


def cell_text(column: str, value: Any) -> str:
    """A value as an analyst reads it: money as money (``format_usd``: cents, or two
    significant digits below a cent), ids verbatim (a user id is not ``5,301``), counts as
    whole numbers with separators, shares as percentages."""
    if value is None:
        return ""
    if column in IDENTIFIER_COLUMNS:
        return str(value)
    if column.endswith("_usd"):
        return format_usd(Decimal(value))
    if column.endswith("_share"):
        return f"{float(value) * 100:.1f} %"
    if isinstance(value, int | Decimal) and value == int(value):
        return f"{int(value):,}"
    return str(value)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis ticks covering ``[low, high]``: steps of 1, 2 or 5 times a power of ten,
    so cents-sized values get ticks like 0.005, 0.010, 0.015 rather than 0.00, 0.00, 0.00."""
    low, high = min(low, 0.0), max(high, 0.0)
    if not high - low > 1e-12 * max(1.0, abs(low), abs(high)):  # flat, or too small to split
        high = low + 1.0
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [float(f"{k * step:.12g}") for k in range(first, last + 1)]


def tick_label(value: float, step: float) -> str:
    """A tick with as many decimals as its step needs (and no more)."""
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{value:,.{decimals}f}"


def period_text(since: datetime, until: datetime) -> str:
    """``2026-11-01 00:00 to 2026-12-01 00:00 UTC`` (no microseconds, no offsets)."""
    return f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"


def bar_chart(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], *, width: int = 860
) -> str:
    """Grouped vertical bars: ``series`` is (name, colour, values) per bar group member."""
    if not labels:
        return "<p><em>no data</em></p>"
    height, pad_left, pad_bottom, pad_top = 260, 70, 70, 20
    values = [v for _, _, vs in series for v in vs]
    ticks = nice_ticks(min([*values, 0.0]), max([*values, 0.0]))
    top, bottom = ticks[-1], ticks[0]
    span = top - bottom or 1.0
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - pad_top
    group_w = plot_w / len(labels)
    bar_w = max(1.0, group_w * 0.8 / len(series))

    def y(v: float) -> float:
        return pad_top + (top - v) / span * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" font-family="sans-serif" font-size="11">',
        f'<line x1="{pad_left}" y1="{y(0):.1f}" x2="{width - 10}" y2="{y(0):.1f}" stroke="#444"/>',
    ]
    for tick in ticks:
        parts.append(
            f'<text x="{pad_left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick_label(tick, step)}</text>"
            f'<line x1="{pad_left - 3}" y1="{y(tick):.1f}" x2="{width - 10}" y2="{y(tick):.1f}" '
            'stroke="#eee"/>'
        )
    for i, label in enumerate(labels):
        x0 = pad_left + i * group_w + group_w * 0.1
        for j, (name, colour, vs) in enumerate(series):
            v = vs[i]
            y_top, y_bottom = (y(v), y(0)) if v >= 0 else (y(0), y(v))
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" '
                f'height="{max(0.5, y_bottom - y_top):.1f}" fill="{colour}">'
                f"<title>{html.escape(label)} {html.escape(name)}: {v:,.6g}</title></rect>"
            )
        if len(labels) <= 40 or i % max(1, len(labels) // 40) == 0:
            lx = x0 + group_w * 0.4
            ly = height - pad_bottom + 12
            parts.append(
                f'<text x="{lx:.1f}" y="{ly}" transform="rotate(45 {lx:.1f} {ly})">'
                f"{html.escape(label[:24])}</text>"
            )
    for j, (name, colour, _) in enumerate(series):
        parts.append(
            f'<rect x="{pad_left + j * 110}" y="2" width="10" height="10" fill="{colour}"/>'
            f'<text x="{pad_left + j * 110 + 14}" y="11">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(section: Section) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in section.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell_text(c, v))}</td>"
            for c, v in zip(section.columns, row, strict=True)
        )
        + "</tr>"
        for row in section.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart(section: Section) -> str:
    rows = section.rows
    if section.name == "by_day":
        return bar_chart(
            [r[0] for r in rows],
            [
                ("cost", "#d9534f", [float(r[1]) for r in rows]),
                ("revenue", "#5cb85c", [float(r[2]) for r in rows]),
                ("margin", "#337ab7", [float(r[4]) for r in rows]),
            ],
        )
    if section.name == "by_user":
        rows = rows[:30]
        return bar_chart(
            [str(r[0]) for r in rows],
            [
                ("cost", "#d9534f", [float(r[2]) for r in rows]),
                ("revenue", "#5cb85c", [float(r[3]) for r in rows]),
            ],
        )
    if section.name == "by_model":
        return _token_chart(section) + _share_chart(section) + _cost_chart(section)
    if section.name == "tokens_by_day":
        return _token_chart(section) + _share_chart(section)
    return _cost_chart(section)


TOKENS = (
    ("input", "#f0ad4e", "input_tokens"),
    ("cache read", "#5bc0de", "cache_read_tokens"),
    ("cache write", "#9b59b6", "cache_write_tokens"),
    ("output", "#337ab7", "output_tokens"),
)


def _token_chart(section: Section) -> str:
    """Tokens by kind per row (input, cache read, cache write, output)."""
    cols, rows = section.columns, section.rows
    return bar_chart(
        [str(r[0]) for r in rows],
        [(name, colour, [float(r[cols.index(c)]) for r in rows]) for name, colour, c in TOKENS],
    )


def _share_chart(section: Section) -> str:
    """The cache-read share of prompt tokens per row, in percent."""
    index = section.columns.index("cache_read_share")
    return bar_chart(
        [str(r[0]) for r in section.rows],
        [("cache-read share (%)", "#5bc0de", [float(r[index]) * 100 for r in section.rows])],
    )


def _cost_chart(section: Section) -> str:
    rows = section.rows
    cost_index = section.columns.index("cost_usd")
    return bar_chart(
        [str(r[0]) for r in rows], [("cost", "#d9534f", [float(r[cost_index]) for r in rows])]
    )


def to_html(title: str, subtitle: str, totals: dict[str, str], sections: list[Section]) -> str:
    summary = "".join(
        f"<div class='card'><div class='k'>{html.escape(k)}</div>"
        f"<div class='v'>{html.escape(v)}</div></div>"
        for k, v in totals.items()
    )
    body = "".join(
        f"<section><h2>{html.escape(s.title)}</h2>{_chart(s)}{_table(s)}</section>"
        for s in sections
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0 2em; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #f3f3f3; }}
td:first-child, th:first-child {{ text-align: left; }}
.cards {{ display: flex; gap: 1em; flex-wrap: wrap; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; min-width: 9em; }}
.k {{ color: #666; font-size: 12px; }} .v {{ font-size: 20px; font-weight: bold; }}
</style></head><body>
<h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>
<div class="cards">{summary}</div>
{body}
<p style="color:#666;font-size:12px">Cost = usage debits at list price (no separate wholesale
price table); revenue = Stars payments credited in USD minus refunds; margin = revenue - cost.
Starter credits and admin top-ups are not revenue.</p>
</body></html>
"""
