"""What the terminal shows of a chat: the bot's drafts as they grow, then its final messages.

Pure bookkeeping over snapshots of the emulator's chat (messages and drafts); each call of
:meth:`ChatView.update` returns the lines to print since the last call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SeenMessage:
    message_id: int
    thread_id: int | None
    text: str
    from_bot: bool
    kind: str


@dataclass(frozen=True, slots=True)
class SeenDraft:
    draft_id: int
    thread_id: int | None
    text: str
    active: bool


@dataclass
class ChatView:
    topic_names: dict[int, str] = field(default_factory=dict)
    _printed: set[int] = field(default_factory=set)
    _edits: dict[int, str] = field(default_factory=dict)
    _drafts: dict[int, str] = field(default_factory=dict)

    def _where(self, thread_id: int | None) -> str:
        if thread_id is None:
            return ""
        return f"[{self.topic_names.get(thread_id, f'topic {thread_id}')}] "

    def update(self, messages: Iterable[SeenMessage], drafts: Iterable[SeenDraft]) -> list[str]:
        lines: list[str] = []
        for draft in drafts:
            if not draft.active:
                self._drafts.pop(draft.draft_id, None)
                continue
            before = self._drafts.get(draft.draft_id)
            if draft.text and draft.text != before:
                self._drafts[draft.draft_id] = draft.text
                added = (
                    draft.text[len(before) :]
                    if before and draft.text.startswith(before)
                    else draft.text
                )
                prefix = "... " if before else f"{self._where(draft.thread_id)}bot (writing): "
                lines.append(prefix + added.replace("\n", " "))
        for msg in messages:
            if not msg.from_bot or msg.kind == "service":  # topic renames are shown apart
                continue
            text = msg.text or f"<{msg.kind}>"
            if msg.message_id not in self._printed:
                self._printed.add(msg.message_id)
                self._edits[msg.message_id] = text
                lines.append(f"{self._where(msg.thread_id)}bot: {text}")
            elif self._edits.get(msg.message_id) != text:
                self._edits[msg.message_id] = text
                lines.append(f"{self._where(msg.thread_id)}bot (edited): {text}")
        return lines
