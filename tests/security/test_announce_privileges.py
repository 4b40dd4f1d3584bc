"""/announce through the gateway's webhook: only privileged users announce, only the author
sends or cancels, and the preview is the message recipients will get."""

from __future__ import annotations

from typing import Any

from security_webhook import ADMIN, Webhook

from actors.texts import say
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import press_button
from events.admin import AnnouncementCancelled, AnnouncementConfirmed, AnnouncementRequested
from events.catalog import ADMIN_EVENTS

MALLORY = 9_400_667
NOT_ADMIN = say("en", "billing.not_admin")
GROUP = -1_009_400_001


def _press(telegram: TelegramEmulator, user_id: int, message: Any, label: str) -> dict[str, Any]:
    """``user_id`` presses the button labelled ``label`` under ``message``."""
    rows = message.json["reply_markup"]["inline_keyboard"]
    data = next(b["callback_data"] for row in rows for b in row if label in b["text"])
    return press_button(telegram, user_id, message, data)


async def test_announce_from_anyone_else_is_refused_and_writes_nothing(
    webhook: Webhook, telegram_emulator: TelegramEmulator
) -> None:
    """/announce by a non-privileged user, to everyone or to listed ids, in private and in a
    group, is answered "for administrators only" and writes nothing."""
    telegram_emulator.add_private_chat(MALLORY)
    telegram_emulator.add_group(GROUP)
    for chat in (MALLORY, GROUP):
        for args in ("free money", f"to:{ADMIN} hi"):
            update = telegram_emulator.send_command(chat, "announce", args, user_id=MALLORY)
            assert await webhook.post(update) == 200

        def refusals(c: int = chat) -> int:
            return sum(m.text == NOT_ADMIN for m in telegram_emulator.bot_messages(c))

        await telegram_emulator.wait_until(lambda: refusals() >= 2, 20)
    assert await webhook.records(ADMIN_EVENTS) == []


async def test_the_preview_is_the_announcement_and_only_its_author_decides(
    webhook: Webhook, telegram_emulator: TelegramEmulator
) -> None:
    """The admin's /announce is recorded and previewed as recipients will see it (its bold
    kept) under Send/Cancel; Mallory pressing Send gets an alert and writes nothing; the
    author's Cancel writes the cancellation and takes the buttons off."""
    tg = telegram_emulator
    tg.add_private_chat(ADMIN)
    update = tg.send_text(ADMIN, "/announce to:5,6 Hello *there*", user_id=ADMIN)
    bold = {"type": "bold", "offset": len("/announce to:5,6 Hello "), "length": 7}
    update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 9}, bold]
    assert await webhook.post(update) == 200
    await tg.wait_until(lambda: any("reply_markup" in m.json for m in tg.bot_messages(ADMIN)), 20)
    header, preview = tg.bot_messages(ADMIN)[-2:]
    assert "2 listed users" in (header.text or "")
    assert preview.text == "Hello *there*"
    assert preview.entities == [{"type": "bold", "offset": 6, "length": 7}]
    [request] = await webhook.records(ADMIN_EVENTS)
    assert isinstance(request, AnnouncementRequested)
    assert (request.recipients, request.admin_user_id) == ((5, 6), ADMIN)

    assert await webhook.post(_press(tg, MALLORY, preview, "Send")) == 200
    await tg.wait_until(lambda: bool(tg.calls("answerCallbackQuery")), 20)
    alert = tg.calls("answerCallbackQuery")[-1].params
    assert "Only the author" in alert["text"]
    assert await webhook.records(ADMIN_EVENTS) == [request]

    assert await webhook.post(_press(tg, ADMIN, preview, "Cancel")) == 200
    await tg.wait_until(lambda: "reply_markup" not in tg.bot_messages(ADMIN)[-2].json, 20)
    decisions = (await webhook.records(ADMIN_EVENTS))[1:]
    assert [type(d) for d in decisions] == [AnnouncementCancelled]
    assert decisions[0].admin_user_id == ADMIN
    assert not any(isinstance(d, AnnouncementConfirmed) for d in decisions)
