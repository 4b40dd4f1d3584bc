"""One slow chat never holds up another: an update waiting on a hung dependency does not
stop the poller from handling other chats' updates, and it is confirmed once it finishes."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import GatewayFactory, TopicReader, polling
from events.catalog import THREAD_INBOX
from events.thread import UserMessageReceived
from infra.views import LedgerLine

SLOW = 7401
FAST = 7402


class HungBalances:
    """A BalanceView whose read for one user hangs until released (a hung database query)."""

    def __init__(self, hung_user: int) -> None:
        self.hung_user = hung_user
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.finished = False

    async def balance(self, user_id: int) -> Decimal | None:
        if user_id == self.hung_user:
            self.entered.set()
            try:
                await self.release.wait()
            finally:
                self.finished = True
        return Decimal("2.5")

    async def recent_operations(self, user_id: int, limit: int = 10) -> list[LedgerLine]:
        return []


async def test_a_hung_read_for_one_chat_does_not_block_another_chats_message(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """While chat A's /balance waits on a hung view, chat B's message (arriving after it, in
    a later getUpdates answer) is written; A is answered and confirmed once the view answers."""
    telegram_emulator.add_private_chat(SLOW)
    telegram_emulator.add_private_chat(FAST)
    balances = HungBalances(SLOW)
    async with (
        open_test_gateway(balances=balances, view_timeout=120.0) as gateway,
        polling(gateway),
    ):
        telegram_emulator.send_command(SLOW, "balance")
        await asyncio.wait_for(balances.entered.wait(), 20)
        telegram_emulator.send_text(FAST, "not held up")
        (record,) = await topics.read(THREAD_INBOX, count=1)
        assert isinstance(record, UserMessageReceived)
        assert record.message.text == "not held up"
        assert not balances.finished, "the slow chat's read ended before the other chat ran"
        balances.release.set()
        await telegram_emulator.wait_until(
            lambda: any("2.50" in (m.text or "") for m in telegram_emulator.bot_messages(SLOW)),
            timeout=20,
        )
    assert list(telegram_emulator.bot().updates) == []
