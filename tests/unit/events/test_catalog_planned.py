"""Records nothing produces yet are marked as planned in the catalog, and only those."""

from __future__ import annotations

import re
from pathlib import Path

from events.catalog import PLANNED, record_types

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = ("actors", "infra")
NOT_PRODUCTION = ("emulators", "scenario.py")  # test doubles and the bench's generator


def _production_source() -> str:
    texts = []
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not any(part in str(path) for part in NOT_PRODUCTION):
                texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


def test_planned_records_are_catalog_records() -> None:
    """Every planned tag names a record type of the catalog (no stale line)."""
    assert set(PLANNED) <= set(record_types())


def test_a_record_is_planned_exactly_when_no_production_code_builds_it() -> None:
    """A record type the production packages never construct is in PLANNED, and a planned
    one that is now constructed somewhere has been unmarked."""
    source = _production_source()
    built = {
        tag
        for tag, cls in record_types().items()
        # built directly, ``Kind(...)``, or by the billing builders' ``_command(Kind, ...)``
        if re.search(rf"\b{cls.__name__}\(|_command\(\s*{cls.__name__},", source) is not None
    }
    unproduced = set(record_types()) - built
    assert unproduced == set(PLANNED)
