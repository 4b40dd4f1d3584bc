"""/balance is private: asked in a group, the report goes to the user's private chat."""

from __future__ import annotations

from decimal import Decimal

from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import GatewayFactory, polling
from infra.views import LedgerLine

GROUP = -1007601
KNOWN = 7601
STRANGER = 7602


class FixedBalances:
    """A BalanceView with the same balance for everyone."""

    async def balance(self, user_id: int) -> Decimal | None:
        return Decimal("12.34")

    async def recent_operations(self, user_id: int, limit: int = 10) -> list[LedgerLine]:
        return []


def _texts(emulator: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.text or "" for m in emulator.bot_messages(chat_id)]


async def test_balance_asked_in_a_group_is_answered_privately(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator
) -> None:
    """The group never sees an amount: a user with a private chat gets the report there (the
    group hears it was sent); a user without one is told to open it."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_private_chat(KNOWN)
    telegram_emulator.add_group(GROUP)
    async with open_test_gateway(balances=FixedBalances()) as gateway, polling(gateway):
        telegram_emulator.send_command(GROUP, "balance", user_id=KNOWN)
        await telegram_emulator.wait_until(lambda: len(_texts(telegram_emulator, GROUP)) == 1, 20)
        telegram_emulator.send_command(GROUP, "balance", user_id=STRANGER)
        await telegram_emulator.wait_until(lambda: len(_texts(telegram_emulator, GROUP)) == 2, 20)
    group = _texts(telegram_emulator, GROUP)
    assert "12.34" in _texts(telegram_emulator, KNOWN)[0]
    assert "private message" in group[0]
    assert "private chat" in group[1]
    assert not any("12.34" in text for text in group)
