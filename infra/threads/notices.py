"""Short replies of the thread actor (a rejection reason, a confirmation) sent to the
thread, the balance refusal at most once per interval per user
(:mod:`actors.thread.refusal_throttle`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from actors.thread.decide import Notice
from actors.thread.refusal_throttle import record_refusal, refusal_due
from actors.thread.state import ThreadState
from infra.threads.telegram_output import TelegramOutput, TelegramOutputError

log = logging.getLogger(__name__)


class NoticeSender:
    def __init__(self, telegram: TelegramOutput, clock: Callable[[], float]) -> None:
        self.telegram = telegram
        self.clock = clock
        """Seconds, for pacing the balance refusal."""
        self._refusals_sent: dict[int, float] = {}

    async def send(self, key: str, state: ThreadState, notices: Sequence[Notice]) -> None:
        chat_id, thread_id = _address(key, state)
        for notice in notices:
            if notice.refusal_to_user is not None:
                now = self.clock()
                if not refusal_due(self._refusals_sent.get(notice.refusal_to_user), now):
                    continue
                self._refusals_sent = record_refusal(
                    self._refusals_sent, notice.refusal_to_user, now
                )
            try:
                await self.telegram.send_notice(
                    chat_id, thread_id, notice.text, reply_to=notice.reply_to_message_id
                )
            except TelegramOutputError as exc:
                log.warning("notice not sent: %s", exc)


def _address(key: str, state: ThreadState) -> tuple[int, int | None]:
    if state.opened:
        return state.chat_id, state.message_thread_id or None
    chat, _, thread = key.partition(":")
    return int(chat), int(thread) or None
