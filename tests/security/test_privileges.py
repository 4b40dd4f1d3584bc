"""Privileged commands from anyone else, and one user acting through another's buttons or
prompts, through the gateway's webhook exactly as Telegram would deliver them.

Covered elsewhere: a /refund of someone else's payment is refused by the ledger
(tests/integration/billing/test_billing_telegram.py, refund test; test_billing_worker.py),
a pre-checkout of someone else's invoice is refused (test_billing_telegram.py, pay package
test), a top-up written straight to the log by a non-admin is refused by the ledger
(tests/integration/billing/test_billing_trust.py), /balance in a group goes to the private
chat (tests/integration/gateway/test_gateway_balance_privacy.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from security_webhook import ADMIN, WEBHOOK_SECRET, Webhook

from actors.billing.payments import custom_amount_prompt
from actors.billing.replies import not_admin
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import press_button
from events.billing import AdminTopUpRequested
from events.catalog import ADMIN_EVENTS, BILLING_COMMANDS, USERS_COMMANDS
from events.users import ModelChangeRequested

ALICE = 9_400_101
MALLORY = 9_400_666
GROUP = -1_009_400_000
ADMIN_COMMANDS = [
    ("topup", f"{ALICE} 100"),
    ("topup", "@alice 5"),
    ("topup", f"{MALLORY} 1e6 because"),
    ("set_margin", "0"),
    ("set_margin", ""),
]


async def _last_bot_message(
    telegram: TelegramEmulator, matches: Callable[[Any], bool], chat: int = GROUP
) -> Any:
    """The newest bot message in ``chat`` that ``matches``, once it is there (replies are
    sent in the background by the gateway's reply path)."""
    found: list[Any] = []

    def seen() -> bool:
        found[:] = [m for m in telegram.bot_messages(chat) if matches(m)]
        return bool(found)

    await telegram.wait_until(seen, 20)
    return found[-1]


async def test_admin_commands_from_anyone_else_are_refused_and_write_nothing(
    webhook: Webhook, telegram_emulator: TelegramEmulator
) -> None:
    """/topup and /set_margin from a non-privileged user, in private and in a group, are
    answered "for administrators only" and write nothing; the same /topup by the admin
    does write (so the refusal is the check, not a broken path)."""
    telegram_emulator.add_private_chat(MALLORY)
    telegram_emulator.add_group(GROUP)
    for chat in (MALLORY, GROUP):
        for command, args in ADMIN_COMMANDS:
            update = telegram_emulator.send_command(chat, command, args, user_id=MALLORY)
            assert await webhook.post(update) == 200

        def refusals(c: int = chat) -> int:
            return sum(m.text == not_admin("en") for m in telegram_emulator.bot_messages(c))

        await telegram_emulator.wait_until(lambda: refusals() >= len(ADMIN_COMMANDS), 20)
        assert refusals() == len(ADMIN_COMMANDS)
    assert await webhook.records(BILLING_COMMANDS) == []
    assert await webhook.records(ADMIN_EVENTS) == []
    telegram_emulator.add_private_chat(ADMIN)
    update = telegram_emulator.send_command(ADMIN, "topup", f"{ALICE} 1", user_id=ADMIN)
    assert await webhook.post(update) == 200
    [written] = await webhook.records(BILLING_COMMANDS)
    assert isinstance(written, AdminTopUpRequested)
    assert (written.user_id, written.admin_user_id) == (ALICE, ADMIN)


async def test_forged_updates_without_the_secret_write_nothing(
    webhook: Webhook, telegram_emulator: TelegramEmulator
) -> None:
    """A forged admin /topup and a forged successful payment, without the secret header or
    with a wrong one, are refused (401) and reach no topic."""
    telegram_emulator.add_private_chat(ADMIN)
    forged = [
        telegram_emulator.send_command(ADMIN, "topup", f"{MALLORY} 100", user_id=ADMIN),
        telegram_emulator.successful_payment(MALLORY, 2500, f"xtr1:{MALLORY}:x", user_id=MALLORY),
    ]
    for body in forged:
        for secret in (None, "", "wrong", WEBHOOK_SECRET[:-1], WEBHOOK_SECRET + "x"):
            assert await webhook.post(body, secret=secret) == 401
    assert await webhook.records(BILLING_COMMANDS) == []


async def test_anothers_buttons_and_prompts_act_only_for_the_one_who_uses_them(
    webhook: Webhook, telegram_emulator: TelegramEmulator
) -> None:
    """In a group, Mallory pressing Alice's /pay and /model buttons, or answering the custom
    amount prompt the bot asked Alice, gets Mallory's own invoice and changes Mallory's own
    model: never an invoice payable as Alice, never Alice's settings."""
    telegram_emulator.add_group(GROUP)
    assert await webhook.post(telegram_emulator.send_command(GROUP, "pay", user_id=ALICE)) == 200
    keyboard = await _last_bot_message(telegram_emulator, lambda m: "reply_markup" in m.json)
    for data in ("pay:10", "pay:custom"):
        assert await webhook.post(press_button(telegram_emulator, MALLORY, keyboard, data)) == 200
    prompt = await _last_bot_message(
        telegram_emulator, lambda m: custom_amount_prompt("en") in (m.text or "")
    )
    reply = telegram_emulator.send_text(GROUP, "42", user_id=MALLORY, reply_to=prompt.message_id)
    assert await webhook.post(reply) == 200
    await telegram_emulator.wait_until(lambda: len(telegram_emulator.invoices(GROUP)) >= 2, 20)
    payloads = [i.payload for i in telegram_emulator.invoices(GROUP)]
    assert len(payloads) == 2
    assert all(p.startswith(f"xtr1:{MALLORY}:") for p in payloads), payloads

    assert await webhook.post(telegram_emulator.send_command(GROUP, "model", user_id=ALICE)) == 200
    models = await _last_bot_message(
        telegram_emulator,
        lambda m: "model:" in str(m.json.get("reply_markup", "")),
    )
    buttons = models.json["reply_markup"]["inline_keyboard"]
    data = buttons[-1][0]["callback_data"]
    assert await webhook.post(press_button(telegram_emulator, MALLORY, models, data)) == 200
    changes = [
        r for r in await webhook.records(USERS_COMMANDS) if isinstance(r, ModelChangeRequested)
    ]
    assert changes
    assert {r.user_id for r in changes} == {MALLORY}
