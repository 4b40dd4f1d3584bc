"""/model offers Gemini models only when a Google API key is configured; without one, asking
for a Gemini model by name or by an old button is refused with a clear message."""

from __future__ import annotations

import pytest

from actors.thread.models import GEMINI_PRO, SONNET
from devkit.emulators.telegram import ChatMessage, TelegramEmulator
from devkit.harness.gateway import WEBHOOK_SECRET, GatewayFactory, TopicReader, polling
from events.catalog import USERS_COMMANDS
from events.users import ModelChangeRequested
from infra.settings import Secret, Settings

USER = 7951


@pytest.fixture
def gateway_settings(
    telegram_emulator: TelegramEmulator, request: pytest.FixtureRequest
) -> Settings:
    key = getattr(request, "param", None)
    return Settings(
        telegram_bot_token=Secret(telegram_emulator.token),
        telegram_api_url=telegram_emulator.base_url,
        telegram_webhook_secret=Secret(WEBHOOK_SECRET),
        google_api_key=Secret(key) if key else None,
    )


def _keyboards(emulator: TelegramEmulator) -> list[ChatMessage]:
    return [m for m in emulator.bot_messages(USER) if m.json.get("reply_markup")]


def _labels(message: ChatMessage) -> list[str]:
    rows = message.json["reply_markup"]["inline_keyboard"]
    return [button["text"] for row in rows for button in row]


async def test_without_a_google_key_gemini_is_neither_offered_nor_accepted(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """The keyboard lists the three Claude models only; "/model pro" and an old Gemini
    button are answered "not available ... no Google API key" and change nothing; a Claude
    model is still chosen."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_private_chat(USER)
    async with open_test_gateway() as gateway, polling(gateway):
        telegram_emulator.send_command(USER, "model")
        await telegram_emulator.wait_until(lambda: bool(_keyboards(telegram_emulator)), 20)
        [keyboard] = _keyboards(telegram_emulator)
        assert _labels(keyboard) == ["Claude Haiku 4.5", "Claude Sonnet 4.6", "Claude Opus 4.6"]
        telegram_emulator.send_command(USER, "model", "pro")
        await telegram_emulator.wait_until(
            lambda: any(
                "Google API key" in (m.text or "") for m in telegram_emulator.bot_messages(USER)
            ),
            20,
        )
        telegram_emulator.inject_update(
            {
                "callback_query": {
                    "id": "old-button",
                    "from": {"id": USER, "is_bot": False, "first_name": "Ada"},
                    "chat_instance": "ci",
                    "message": keyboard.json,
                    "data": f"model:{GEMINI_PRO}",
                }
            }
        )
        await telegram_emulator.wait_until(
            lambda: any(
                "Google API key" in str(c.params.get("text"))
                for c in telegram_emulator.calls("answerCallbackQuery")
            ),
            20,
        )
        telegram_emulator.send_command(USER, "model", "sonnet")
        records = await topics.read(USERS_COMMANDS, count=2, settle=1.0)
    changes = [r for r in records if isinstance(r, ModelChangeRequested)]
    assert [c.model for c in changes] == [SONNET]


@pytest.mark.parametrize("gateway_settings", ["google-key"], indirect=True)
async def test_with_a_google_key_every_model_is_offered(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator
) -> None:
    """With ``GOOGLE_API_KEY`` set, the keyboard lists Claude and Gemini, six models."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_private_chat(USER)
    async with open_test_gateway() as gateway, polling(gateway):
        telegram_emulator.send_command(USER, "model")
        await telegram_emulator.wait_until(lambda: bool(_keyboards(telegram_emulator)), 20)
    labels = _labels(_keyboards(telegram_emulator)[0])
    assert len(labels) == 6
    assert "Gemini 3.1 Pro" in labels
