"""What the model is told about a user message besides its text: who wrote it (in groups),
what it replies to or quotes, where it was forwarded from, and whether it was edited.

The header is one bracketed line put before the message text in the model's context.
"""

from __future__ import annotations

from typing import Final

from events.messages import ForwardOrigin, ReplyTo, TelegramUser, UserMessage

GROUP_CHAT_TYPES: Final = frozenset({"group", "supergroup"})
EXCERPT_CHARS: Final = 200
EDITED_MARK: Final = "[edited]"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line, at most ``limit`` characters (an ellipsis marks a cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def author(user: TelegramUser) -> str:
    """``First Last (@username)``, or the user id when there is no name at all."""
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    handle = f"@{user.username}" if user.username else ""
    if name and handle:
        return f"{name} ({handle})"
    return name or handle or f"user {user.user_id}"


def _reply_part(reply: ReplyTo) -> str:
    if reply.quote:
        return f"quoting «{excerpt(reply.quote)}»"
    whose = "your message" if reply.from_bot else "a message"
    if reply.text:
        return f"replying to {whose} «{excerpt(reply.text)}»"
    return f"replying to {whose}"


def _forward_part(origin: ForwardOrigin) -> str:
    source = origin.chat_title or origin.sender_name or "a hidden sender"
    return f"forwarded from {source}"


def message_header(message: UserMessage, chat_type: str) -> str:
    """The bracketed line for ``message`` ("" when there is nothing to say)."""
    parts: list[str] = []
    if chat_type in GROUP_CHAT_TYPES:
        parts.append(f"from {author(message.sender)}")
    if message.forward_origin is not None:
        parts.append(_forward_part(message.forward_origin))
    if message.reply_to is not None:
        parts.append(_reply_part(message.reply_to))
    return f"[{'; '.join(parts)}]" if parts else ""


def with_header(text: str, header: str, edited: bool) -> str:
    """The text as the model sees it: the header line (and the edited mark) first."""
    marks = " ".join(p for p in (header, EDITED_MARK if edited else "") if p)
    if not marks:
        return text
    return f"{marks}\n{text}" if text.strip() else marks
