"""The payments process tells users through the gateway's flood-aware reply path."""

from __future__ import annotations

from datetime import UTC, datetime

from billing_helpers import PAYER, PaymentsFactory, wait_for

from actors.billing import commands
from actors.billing.ledger import BillingState, decide
from devkit.emulators.telegram import TelegramEmulator
from events.billing import OperationRejected
from events.catalog import BILLING_LEDGER
from infra.kafka.publisher import EventPublisher

NOTICES = 4


async def test_refund_notices_over_the_flood_limit_wait_out_retry_after_and_all_arrive(
    billing_topics: str,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    payments_process: PaymentsFactory,
) -> None:
    """Four refusals for one user at once, with Telegram allowing one message a second in a
    private chat: the notices Telegram answers 429 are sent again no sooner than its
    retry_after, and every notice arrives, in order (none is dropped or sent early)."""
    telegram_emulator.add_private_chat(PAYER)
    telegram_emulator.configure_flood(enabled=True, private_burst=1, private_per_second=1.0)
    now = datetime.now(UTC)
    refusals = []
    for n in range(NOTICES):
        [entry] = decide(BillingState(), commands.refund_debit(PAYER, f"stxN{n}"), now)
        assert isinstance(entry, OperationRejected)
        refusals.append((BILLING_LEDGER, entry))
    async with payments_process() as process:
        await publisher.publish_all(refusals)
        await wait_for(lambda: len(telegram_emulator.bot_messages(PAYER)) == NOTICES, 60)
        assert process.handled == NOTICES
    texts = [m.text or "" for m in telegram_emulator.bot_messages(PAYER)]
    expected = [f"Refund of stxN{n} refused:" for n in range(NOTICES)]
    assert [t.split(" no payment")[0] for t in texts] == expected
    sends = telegram_emulator.calls("sendMessage")
    refused = [i for i, call in enumerate(sends) if call.error and "retry after" in call.error]
    assert refused, "the flood limit was never reached: the test proves nothing"
    for i in refused:
        wait = int(sends[i].error.rsplit(" ", 1)[-1])  # type: ignore[union-attr]
        resent = sends[i + 1]
        assert resent.params["text"] == sends[i].params["text"]
        assert resent.at - sends[i].at >= wait
