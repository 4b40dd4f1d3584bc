"""A turn's drafts: its progress (thinking, tool lines, the answer so far) shown as a
streamed draft in private chats, when the chat's gate allows one and something changed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from actors.thread.drafts import draft_id_for
from infra.threads.telegram_output import TelegramOutput
from infra.threads.turn_state import TurnConfig, TurnHandle


class TurnDrafts:
    def __init__(
        self, telegram: TelegramOutput, config: TurnConfig, clock: Callable[[], float]
    ) -> None:
        self.telegram = telegram
        self.config = config
        self.clock = clock

    def enabled(self, handle: TurnHandle) -> bool:
        return self.config.drafts and handle.state.chat_type == "private"

    def show(
        self, handle: TurnHandle, draft_id: int, shown: list[str], *, force: bool = False
    ) -> None:
        """Show the turn's progress (thinking, tool lines, answer so far) as a draft, when
        the chat's gate allows one and something changed."""
        running = handle.running
        chat_id, thread_id = running.chat_id, running.message_thread_id or None
        if not self.telegram.draft_allowed(chat_id):
            return
        first = handle.progress.first_token_at
        if not force and (first is None or self.clock() - first < self.config.first_draft_delay):
            return  # an answer done within this delay needs no draft
        text = handle.text_done + handle.progress.text
        header = handle.trace.draft_header()
        seen = header.text + "\x00" + text
        if not (text.strip() or header.text) or seen == shown[0]:
            return
        shown[0] = seen
        task = asyncio.create_task(
            self.telegram.draft(chat_id, thread_id, draft_id, text, header=header)
        )
        handle.drafts.add(task)
        task.add_done_callback(handle.drafts.discard)

    def transcript_shown(self, handle: TurnHandle) -> Callable[[str, float | None], None]:
        """Show a transcript in the draft at once (private chats), before the model answers."""

        def shown(text: str, seconds: float | None) -> None:
            handle.trace.add_transcript(text, seconds)
            if self.enabled(handle):
                self.show(handle, draft_id_for(handle.running.turn_id), [""], force=True)

        return shown

    async def show_tools(self, handle: TurnHandle, every: float = 1.0) -> None:
        """While client tools run (no tokens stream then), refresh the draft with their
        status lines about once a second."""
        if not self.enabled(handle):
            return
        shown = [""]
        draft_id = draft_id_for(handle.running.turn_id)
        while True:
            handle.trace.statuses(handle.tools.status)
            self.show(handle, draft_id, shown, force=True)
            await asyncio.sleep(every)
