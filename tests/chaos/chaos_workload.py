"""The users of a chaos run, acting through the Telegram emulator as people would.

Each user sends its messages one after the other (the next once the previous one was
answered, or after a timeout: a lost answer is the verifier's to report, not the
workload's), and may pay with Stars and ask for a refund. Every message carries a token the
Claude emulator's script matches, so its answer (streamed slowly enough for a fault to land
mid-turn) is recognisable in the chat; a turn re-run after a crash gets the emulator's
default answer, an echo, which carries the token too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaos_plan import RunPlan, UserPlan

from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import TelegramEmulator

OWNER = 7_070_001
"""The privileged user who announces (``PRIVILEGED_USER_IDS`` of the bot under chaos)."""
BROADCAST_EXTRA = 60
"""Recipients of each run's announcement besides its users (about 2.5 s of sends, so a
fault often lands mid-broadcast); the first two of them blocked the bot."""
BROADCAST_FIRST = 7_500_000


@dataclass(frozen=True, slots=True)
class SentMessage:
    user_id: int
    message_id: int
    token: str
    sent_at: float = 0.0
    """When it was sent, on the Telegram emulator's clock (its call log's times)."""


@dataclass(frozen=True, slots=True)
class SentPayment:
    user_id: int
    charge_id: str
    stars: int
    refund_asked: bool


@dataclass(frozen=True, slots=True)
class SentBroadcast:
    token: str
    recipients: tuple[int, ...]
    blocked: frozenset[int]
    confirmed: bool = True
    """Send was pressed (False: the preview did not come within the wait, so the owner never
    confirmed it, and nobody may be sent it)."""


@dataclass
class RunRecord:
    """What a run's users did, for the verifier."""

    plan: RunPlan
    messages: list[SentMessage] = field(default_factory=list)
    payments: list[SentPayment] = field(default_factory=list)
    broadcasts: list[SentBroadcast] = field(default_factory=list)
    duplicates: int = 0
    waits_timed_out: int = 0
    timed_out: list[str] = field(default_factory=list)
    """What the workload waited for in vain (``answer_timeout`` each), for the run's line."""


@dataclass
class Workload:
    telegram: TelegramEmulator
    claude: ClaudeEmulator
    duplicate: bool
    token: str
    answer_timeout: float = 60.0

    broadcast: bool = True
    answer_words: int = 30
    """Each answer's length in words (30: streamed over about half a second)."""

    async def run(self, plan: RunPlan, record: RunRecord) -> None:
        users = [self._user(plan, u, record) for u in plan.users]
        announcing = [self._broadcast(plan, record)] if self.broadcast and plan.users else []
        await asyncio.gather(*users, *announcing)

    async def _broadcast(self, plan: RunPlan, record: RunRecord) -> None:
        """The owner announces to the run's users and more, previews it, presses Send."""
        token = f"b{plan.index}q"
        extra = [BROADCAST_FIRST + plan.index * 100 + n for n in range(BROADCAST_EXTRA)]
        recipients = (*(u.user_id for u in plan.users), *extra)
        for chat in (OWNER, *recipients):
            self.telegram.add_private_chat(chat, token=self.token)
        blocked = frozenset(extra[:2])
        for chat in blocked:
            self.telegram.block_chat(chat, token=self.token)
        listed = ",".join(map(str, recipients))
        update = self.telegram.send_text(
            OWNER, f"/announce to:{listed} news {token}", token=self.token
        )
        await self._maybe_duplicate(update, record)
        previewed = await self._wait(
            lambda: self._preview(token) is not None, record, f"preview {token}"
        )
        if not previewed:
            record.broadcasts.append(SentBroadcast(token, recipients, blocked, confirmed=False))
            return
        record.broadcasts.append(SentBroadcast(token, recipients, blocked))
        press = {
            "callback_query": {
                "id": f"cb{token}",
                "from": {"id": OWNER, "is_bot": False, "first_name": "Owner"},
                "chat_instance": "chaos",
                "message": self._preview(token),
                "data": self._preview(token)["reply_markup"]["inline_keyboard"][0][0][
                    "callback_data"
                ],
            }
        }
        self.telegram.inject_update(press, token=self.token)
        await self._maybe_duplicate(press, record)

    def _preview(self, token: str) -> dict[str, Any] | None:
        shown = self.telegram.bot_messages(OWNER, token=self.token)
        found = [m.json for m in shown if token in (m.text or "") and "reply_markup" in m.json]
        return found[-1] if found else None

    async def _user(self, plan: RunPlan, user: UserPlan, record: RunRecord) -> None:
        self.telegram.add_private_chat(user.user_id, token=self.token)
        for n in range(user.messages):
            await self._message(plan, user, n, record)
            if n == 0 and user.pay_stars:
                await self._payment(plan, user, record)

    async def _message(self, plan: RunPlan, user: UserPlan, n: int, record: RunRecord) -> None:
        token = f"k{plan.index}u{user.user_id}m{n}q"
        self.claude.script(
            text_reply(
                f"answer {token} {' '.join(['streaming'] * self.answer_words)}",
                contains=token,
                chunk_delay=0.04,
                chunk_size=24,
            )
        )
        sent_at = self.telegram.world.clock()
        update = self.telegram.send_text(user.user_id, f"question {token}", token=self.token)
        message_id = update["message"]["message_id"]
        record.messages.append(SentMessage(user.user_id, message_id, token, sent_at))
        await self._maybe_duplicate(update, record)
        await self._wait(
            lambda: self._heard_back(user.user_id, token, message_id), record, f"answer {token}"
        )

    async def _payment(self, plan: RunPlan, user: UserPlan, record: RunRecord) -> None:
        uid, stars = user.user_id, user.pay_stars
        charge_id = f"stxchaos{plan.index}u{uid}"
        update = self.telegram.send_command(uid, "pay", str(stars), token=self.token)
        await self._maybe_duplicate(update, record)
        if not await self._wait(lambda: bool(self._invoices(uid)), record, f"invoice {uid}"):
            return
        payload = self._invoices(uid)[-1].payload
        query = self.telegram.pre_checkout_query(uid, stars, payload, token=self.token)
        query_id = query["pre_checkout_query"]["id"]
        queries = self.telegram.bot(self.token).pre_checkout_queries
        if not await self._wait(lambda: queries[query_id].answered, record, f"pre-checkout {uid}"):
            return
        if not queries[query_id].ok:
            return
        paid = self.telegram.successful_payment(
            uid, stars, payload, user_id=uid, charge_id=charge_id, token=self.token
        )
        record.payments.append(SentPayment(uid, charge_id, stars, user.refund))
        await self._maybe_duplicate(paid, record)
        await self._wait(lambda: self._shows(uid, charge_id), record, f"receipt {charge_id}")
        if user.refund:
            asked = self.telegram.send_command(uid, "refund", charge_id, token=self.token)
            await self._maybe_duplicate(asked, record)
            await self._wait(
                lambda: self._refund_settled(uid, charge_id), record, f"refund {charge_id}"
            )

    def _heard_back(self, chat_id: int, token: str, message_id: int) -> bool:
        """The answer shows, or the bot replied to the message otherwise (a refusal, a
        failure): the user may send the next one. The verifier judges which was right."""
        return any(
            token in (m.text or "")
            or (m.json.get("reply_to_message") or {}).get("message_id") == message_id
            for m in self.telegram.bot_messages(chat_id, token=self.token)
        )

    def _shows(self, chat_id: int, needle: str) -> bool:
        return bot_text_with(self.telegram, self.token, chat_id, needle)

    def _invoices(self, chat_id: int) -> list[Any]:
        return self.telegram.invoices(chat_id, token=self.token)

    def _refund_settled(self, chat_id: int, charge_id: str) -> bool:
        return refund_settled(self.telegram, self.token, chat_id, charge_id)

    async def _maybe_duplicate(self, update: dict[str, Any], record: RunRecord) -> None:
        """Deliver the same update again (Telegram does, when its confirmation is lost)."""
        if not self.duplicate:
            return
        body = {k: v for k, v in update.items() if k != "update_id"}
        self.telegram.inject_update(body, token=self.token)
        record.duplicates += 1

    async def _wait(self, predicate: Callable[[], bool], record: RunRecord, what: str) -> bool:
        try:
            await self.telegram.wait_until(predicate, self.answer_timeout)
        except TimeoutError:
            record.waits_timed_out += 1
            record.timed_out.append(what)
            return False
        return True


def bot_text_with(telegram: TelegramEmulator, token: str, chat_id: int, needle: str) -> bool:
    return any(needle in (m.text or "") for m in telegram.bot_messages(chat_id, token=token))


REFUND_OUTCOMES = ("Refunded ", "refused", "could not refund")


def refund_settled(telegram: TelegramEmulator, token: str, chat_id: int, charge_id: str) -> bool:
    """The user heard how their refund ended (done, refused, or failed and credited back)."""
    return any(
        charge_id in (m.text or "") and any(w in (m.text or "") for w in REFUND_OUTCOMES)
        for m in telegram.bot_messages(chat_id, token=token)
    )
