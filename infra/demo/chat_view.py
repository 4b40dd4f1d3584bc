"""What the terminal shows of a chat: the bot's drafts as they grow, then its final messages
with their inline keyboards (numbered buttons) and invoices.

Pure bookkeeping over snapshots of the emulator's chat (messages and drafts); each call of
:meth:`ChatView.update` returns the lines to print since the last call. :func:`pick_button`
finds the button ``/press N`` or ``/press TEXT`` means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

Keyboard = tuple[tuple["Button", ...], ...]
"""Rows of buttons, as Telegram lays them out."""


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SeenInvoice:
    title: str
    description: str
    currency: str
    total_amount: int


@dataclass(frozen=True, slots=True)
class SeenMessage:
    message_id: int
    thread_id: int | None
    text: str
    from_bot: bool
    kind: str
    buttons: Keyboard = ()
    invoice: SeenInvoice | None = None


@dataclass(frozen=True, slots=True)
class SeenDraft:
    draft_id: int
    thread_id: int | None
    text: str
    active: bool


def keyboard_of(message_json: dict[str, Any]) -> Keyboard:
    """The inline keyboard of a Bot API message, or ``()``."""
    markup = message_json.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        return ()
    return tuple(
        tuple(
            Button(
                text=str(b.get("text", "")),
                callback_data=b.get("callback_data"),
                url=b.get("url"),
            )
            for b in row
            if isinstance(b, dict)
        )
        for row in rows
        if isinstance(row, list)
    )


def invoice_of(message_json: dict[str, Any]) -> SeenInvoice | None:
    """The invoice of a Bot API message, or None."""
    invoice = message_json.get("invoice")
    if not isinstance(invoice, dict):
        return None
    return SeenInvoice(
        title=str(invoice.get("title", "")),
        description=str(invoice.get("description", "")),
        currency=str(invoice.get("currency", "")),
        total_amount=int(invoice.get("total_amount", 0)),
    )


def button_lines(keyboard: Keyboard) -> list[str]:
    """One line per keyboard row, buttons numbered from 1 across the rows."""
    lines: list[str] = []
    n = 0
    for row in keyboard:
        cells = []
        for button in row:
            n += 1
            cells.append(f"[{n}] {button.text}")
        if cells:
            lines.append("    " + "  ".join(cells))
    return lines


def invoice_lines(invoice: SeenInvoice) -> list[str]:
    return [
        f"invoice: {invoice.title} — {invoice.description}",
        f"    amount: {invoice.total_amount} {invoice.currency}    (/paynow pays it)",
    ]


def _label(text: str) -> str:
    return text.removeprefix("✓").strip().casefold()


def pick_button(keyboard: Keyboard, choice: str) -> Button | str:
    """The button ``choice`` names: its number (from 1), or its text (exactly, ignoring case
    and a leading ✓, else the only button containing it). A string says why none matched."""
    buttons: Sequence[Button] = [b for row in keyboard for b in row]
    wanted = choice.strip()
    if not buttons:
        return "no buttons"
    if not wanted:
        return f"say which button: a number 1-{len(buttons)} or its text"
    if wanted.isdigit():
        n = int(wanted)
        if 1 <= n <= len(buttons):
            return buttons[n - 1]
        return f"no button {n}: there are {len(buttons)}"
    key = _label(wanted)
    exact = [b for b in buttons if _label(b.text) == key]
    if len(exact) == 1:
        return exact[0]
    partial = [b for b in buttons if key in _label(b.text)]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        return f"no button matches {wanted!r}"
    return f"{wanted!r} matches {len(partial)} buttons; use its number"


@dataclass
class ChatView:
    topic_names: dict[int, str] = field(default_factory=dict)
    _printed: set[int] = field(default_factory=set)
    _edits: dict[int, tuple[str, Keyboard]] = field(default_factory=dict)
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
            shown = (text, msg.buttons)
            if msg.message_id not in self._printed:
                self._printed.add(msg.message_id)
                self._edits[msg.message_id] = shown
                if msg.invoice is not None:
                    first, *rest = invoice_lines(msg.invoice)
                    lines.append(f"{self._where(msg.thread_id)}bot: {first}")
                    lines.extend(rest)
                else:
                    lines.append(f"{self._where(msg.thread_id)}bot: {text}")
                lines.extend(button_lines(msg.buttons))
            elif self._edits.get(msg.message_id) != shown:
                self._edits[msg.message_id] = shown
                lines.append(f"{self._where(msg.thread_id)}bot (edited): {text}")
                lines.extend(button_lines(msg.buttons))
        return lines
