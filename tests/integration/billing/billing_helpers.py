"""Helpers shared by the billing integration tests (topic reading: devkit.harness.topics)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from actors.billing import commands
from actors.billing.ledger import BillingState, decide, evolve
from actors.billing.payments import InvoicePayload
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import feed
from devkit.harness.topics import eventually
from events.billing import RefundDebited
from infra.billing.payments_process import PaymentsProcess
from infra.billing.worker import BillingWorker
from infra.gateway.app import Gateway

PAYER = 7001
OTHER = 7002
ADMIN = 9001
"""The privileged user of the test gateways (one of ADMIN_IDS)."""

ADMIN_IDS = frozenset({1, ADMIN})
"""The privileged user ids the test workers are configured with."""

WorkerFactory = Callable[..., contextlib.AbstractAsyncContextManager[BillingWorker]]
"""``billing_worker(**options)``: a running, ready worker (the conftest's fixture)."""

GatewayFactory = Callable[[], contextlib.AbstractAsyncContextManager[Gateway]]
"""``billing_gateway()``: the deployed gateway on the billing topics (the conftest's fixture)."""

PaymentsFactory = Callable[[], contextlib.AbstractAsyncContextManager[PaymentsProcess]]
"""``payments_process()``: a running, ready payments process (the conftest's fixture)."""


async def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll a condition (cheap, in-process) until it holds (billing's default: 60 s)."""
    await eventually(predicate, timeout)


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at


async def pay_50_stars(gateway: Gateway, telegram: TelegramEmulator, charge_id: str) -> Any:
    """PAYER asks /pay 50 and pays the invoice (Telegram's ``successful_payment`` with
    ``charge_id``); answers the invoice."""
    await feed(gateway, telegram.send_command(PAYER, "pay", "50", user_id=PAYER))
    [invoice] = telegram.invoices(PAYER)
    paid = telegram.successful_payment(
        PAYER, 50, invoice.payload, user_id=PAYER, charge_id=charge_id
    )
    await feed(gateway, paid)
    return invoice


def refund_debit_entry(charge_id: str, invoice_id: str) -> RefundDebited:
    """The ledger entry of PAYER's refund of a paid 50-Star invoice, as the billing actor
    writes it (a payment credit, then the refund debit, decided and folded)."""
    state = BillingState()
    payload = InvoicePayload(PAYER, invoice_id, 50, Decimal(0)).encode()
    now = datetime.now(UTC)
    for cmd in (
        commands.payment_credit(
            PAYER, charge_id, 50, invoice_payload=payload, owner_margin=Decimal(0), occurred_at=now
        ),
        commands.refund_debit(PAYER, charge_id, occurred_at=now),
    ):
        [entry] = decide(state, cmd, now)
        evolve(state, entry)
    assert isinstance(entry, RefundDebited)
    return entry
