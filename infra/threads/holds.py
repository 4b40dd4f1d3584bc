"""The thread turn's side of billing reservations (see :mod:`actors.billing.reservations`).

Before each model call a turn reserves an estimate of its cost with the billing actor;
the call's usage charge names the reservation and settles it; a call that ends without a
charge (nothing consumed) releases it. The reserve command is published directly (not
through the thread's outbox) while the model call starts, and is acknowledged before the
charge or release that ends it is committed, so it always precedes them on the user's
partition. A reserve lost in a crash only means less protection: the re-run turn reserves
again under the same operation id, and a reservation never settled expires
(:data:`actors.billing.policy.RESERVATION_TTL`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from actors.billing import operations
from actors.billing.reservations import estimate_call, request_input_tokens
from actors.thread.state import RunningTurn
from events.billing import ReservationReleaseRequested, UsageChargeRequested, UsageReserveRequested
from events.catalog import BillingCommand
from events.envelope import caused_by
from events.keys import user_key

log = logging.getLogger(__name__)

PRODUCER = "thread-actor"
PublishBilling = Callable[[BillingCommand], Awaitable[None]]
NoteBilling = Callable[[BillingCommand], None]


def _ignore(command: BillingCommand) -> None:
    return None


def release_of(
    running: RunningTurn, reservation_id: str, reason: str
) -> ReservationReleaseRequested:
    """The release of a reservation the turn will not charge (an operation of its own)."""
    started = running.started
    return ReservationReleaseRequested(
        **caused_by(
            started,
            producer=PRODUCER,
            key=user_key(started.user_id),
            label=operations.release(reservation_id),
        ),
        operation_id=operations.release(reservation_id),
        user_id=started.user_id,
        reservation_id=reservation_id,
        reason=reason,
    )


def interrupted_release(running: RunningTurn) -> ReservationReleaseRequested:
    """A turn found interrupted (its worker died mid-call) and not re-run: the call it was
    making reserved ``{turn}:{steps + 1}`` and will never be charged."""
    rid = operations.reservation(running.turn_id, running.steps + 1)
    return release_of(running, rid, "interrupted")


@dataclass(slots=True)
class TurnHolds:
    """The reservation of the model call a turn is making (one call at a time)."""

    publish: PublishBilling
    note: NoteBilling = _ignore
    """Told of every reservation, charge and release at once (the worker's balance view
    counts them before the ledger shows them)."""
    current: str | None = None
    pending: asyncio.Task[None] | None = None

    def reserve(self, running: RunningTurn, step: int, request: Mapping[str, Any]) -> None:
        """Reserve the estimated cost of the call about to be made (published meanwhile)."""
        rid = operations.reservation(running.turn_id, step)
        started = running.started
        amount = estimate_call(
            started.model,
            request_input_tokens(request),
            int(request.get("max_tokens") or 0),
            datetime.now(UTC),
        )
        command = UsageReserveRequested(
            **caused_by(
                started,
                producer=PRODUCER,
                key=user_key(started.user_id),
                label=operations.reserve(rid),
            ),
            operation_id=operations.reserve(rid),
            user_id=started.user_id,
            reservation_id=rid,
            amount=amount,
            thread_key=started.key,
            turn_id=running.turn_id,
        )
        self.current = rid
        self.note(command)
        self.pending = asyncio.ensure_future(self.publish(command))

    async def settle(
        self, running: RunningTurn, charge: UsageChargeRequested | None, reason: str
    ) -> list[BillingCommand]:
        """The billing commands that end the current call: its charge naming the
        reservation, or a release when nothing is charged."""
        await self._sent()
        rid, self.current = self.current, None
        if rid is None:
            return [charge] if charge is not None else []
        if charge is not None:
            settled = msgspec.structs.replace(charge, reservation_id=rid)
            self.note(settled)
            return [settled]
        release = release_of(running, rid, reason)
        self.note(release)
        return [release]

    async def _sent(self) -> None:
        task, self.pending = self.pending, None
        if task is None:
            return
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the call is charged anyway; only the hold is missing
            log.warning("usage reservation not published: %s", exc)
