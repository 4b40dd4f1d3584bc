"""The ``admin`` projection: the history of the owner margin."""

from __future__ import annotations

from events import admin
from projections.rows import Insert, RowOp
from projections.source import Source
from projections.tables import MARGIN_CHANGES


def margin_changed(e: admin.MarginChanged, src: Source) -> list[RowOp]:
    row = {
        "event_id": e.id,
        "owner_margin": e.owner_margin,
        "previous_owner_margin": e.previous_owner_margin,
        "admin_user_id": e.admin_user_id,
        "occurred_at": e.occurred_at,
    }
    return [Insert(MARGIN_CHANGES.name, row)]
