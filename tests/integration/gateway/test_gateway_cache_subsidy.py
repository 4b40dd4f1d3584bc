"""/set_cache_subsidy through the gateway: a privileged user switches it (a record on
bot.admin.events the billing worker honours) and sees it; anyone else is refused."""

from __future__ import annotations

import pytest

from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import WEBHOOK_SECRET, GatewayFactory, TopicReader, polling
from events.admin import CacheSubsidyChanged
from events.catalog import ADMIN_EVENTS
from infra.settings import Secret, Settings

OWNER = 7961
STRANGER = 7962


@pytest.fixture
def gateway_settings(telegram_emulator: TelegramEmulator) -> Settings:
    return Settings(
        telegram_bot_token=Secret(telegram_emulator.token),
        telegram_api_url=telegram_emulator.base_url,
        telegram_webhook_secret=Secret(WEBHOOK_SECRET),
        privileged_user_ids=frozenset({OWNER}),
    )


def _texts(emulator: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.text or "" for m in emulator.bot_messages(chat_id)]


async def test_the_owner_switches_the_subsidy_and_a_stranger_cannot(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """ "on" writes ``admin.cache_subsidy_changed`` naming the owner and the previous
    setting; asking again shows it on; a bad word gets the usage; a stranger's "off" is
    refused and writes nothing."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_private_chat(OWNER)
    telegram_emulator.add_private_chat(STRANGER)
    async with open_test_gateway() as gateway, polling(gateway):
        telegram_emulator.send_command(OWNER, "set_cache_subsidy", "on")
        [record] = await topics.read(ADMIN_EVENTS, count=1, timeout=90)
        telegram_emulator.send_command(OWNER, "set_cache_subsidy")
        telegram_emulator.send_command(OWNER, "set_cache_subsidy", "maybe")
        telegram_emulator.send_command(STRANGER, "set_cache_subsidy", "off")
        await telegram_emulator.wait_until(lambda: len(_texts(telegram_emulator, OWNER)) == 3, 60)
        await telegram_emulator.wait_until(lambda: _texts(telegram_emulator, STRANGER) != [], 20)
        records = await topics.read(ADMIN_EVENTS, count=1, settle=1.0)
    assert isinstance(record, CacheSubsidyChanged)
    assert (record.subsidized, record.admin_user_id) == (True, OWNER)
    assert record.previous_subsidized in (False, None)  # None: the view was not readable
    assert records == [record]
    owner = _texts(telegram_emulator, OWNER)
    assert "Cache subsidy on" in owner[0]
    assert "Cache subsidy is on" in owner[1]
    assert "usage: /set_cache_subsidy on|off" in owner[2]
    assert "administrators only" in _texts(telegram_emulator, STRANGER)[0]
