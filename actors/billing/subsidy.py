"""The cache-write subsidy: whether users pay their prompt-cache writes, over time.

``/set_cache_subsidy on|off`` records ``admin.cache_subsidy_changed`` in
``bot.admin.events`` (one key: totally ordered). The schedule is the fold of the changes a
privileged user made; a change made by anyone else (a record written to the topic by hand)
is ignored, like a margin change. The subsidy in force for a usage charge is the last
accepted change at or before the charge's own ``occurred_at`` (when the usage happened),
not when billing decides it, so the answer does not depend on how late a charge is
processed.

Pricing honours it (:func:`actors.billing.pricing.price`, ``cache_writes_charged``): a
subsidised charge keeps its cache-write lines at the table's price and adds one line per
write with the opposite amount, so the ledger entry shows both what the writes cost and
that the bot paid them, and its amount is what the user pays. Default: no subsidy (users
pay cache writes, as in the reference bot).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from events.admin import CacheSubsidyChanged

DEFAULT_SUBSIDIZED: Final = False


@dataclass(frozen=True, slots=True)
class SubsidySchedule:
    """Accepted changes as ``(effective_from, subsidized)``, in time order."""

    changes: tuple[tuple[datetime, bool], ...] = ()

    def subsidized_at(self, at: datetime) -> bool:
        """Whether cache writes of usage that happened at ``at`` are subsidised."""
        index = bisect_right([when for when, _ in self.changes], at)
        return self.changes[index - 1][1] if index else DEFAULT_SUBSIDIZED

    @property
    def current(self) -> bool:
        """The setting now (the last change)."""
        return self.changes[-1][1] if self.changes else DEFAULT_SUBSIDIZED


NO_SUBSIDY: Final = SubsidySchedule()


def accepts(change: CacheSubsidyChanged, privileged: frozenset[int]) -> bool:
    """Whether ``change`` counts: only a privileged user may change the subsidy."""
    return change.admin_user_id in privileged


def with_change(
    schedule: SubsidySchedule, change: CacheSubsidyChanged, privileged: frozenset[int]
) -> SubsidySchedule:
    """The schedule after ``change`` (unchanged when it does not count). Changes are kept
    in ``occurred_at`` order whatever order they are folded in."""
    if not accepts(change, privileged):
        return schedule
    entry = (change.occurred_at, change.subsidized)
    if entry in schedule.changes:
        return schedule
    return SubsidySchedule(tuple(sorted((*schedule.changes, entry), key=lambda c: c[0])))


def parse_switch(text: str) -> bool | None:
    """``on``/``off`` (and yes/no, true/false, 1/0) -> the setting; anything else None."""
    word = text.strip().lower()
    if word in ("on", "yes", "true", "1"):
        return True
    if word in ("off", "no", "false", "0"):
        return False
    return None
