"""Partition keys as readable strings.

* thread key ``"{chat_id}:{message_thread_id or 0}"``, e.g. ``"-1001234:42"`` for a forum
  topic, ``"5551234:0"`` for a private chat without topics;
* user key: the Telegram user id in decimal, e.g. ``"5551234"``;
* ``"global"`` for the few records about the whole bot (admin settings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

KeyKind: TypeAlias = Literal["thread", "user", "global"]

GLOBAL_KEY: Final = "global"

_THREAD_KEY = re.compile(r"-?[0-9]{1,20}:[0-9]{1,20}")
_USER_KEY = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True, slots=True)
class ThreadKey:
    """A conversation: a chat, or a forum topic in a chat (``message_thread_id`` 0 = none)."""

    chat_id: int
    message_thread_id: int = 0

    def __str__(self) -> str:
        return f"{self.chat_id}:{self.message_thread_id}"

    @classmethod
    def of(cls, chat_id: int, message_thread_id: int | None) -> ThreadKey:
        """The key of a Telegram message's thread; ``None`` (no topic) becomes 0."""
        return cls(chat_id, message_thread_id or 0)

    @classmethod
    def parse(cls, text: str) -> ThreadKey:
        if not _THREAD_KEY.fullmatch(text):
            raise ValueError(f"not a thread key (chat_id:thread_id): {text!r}")
        chat, _, thread = text.partition(":")
        return cls(int(chat), int(thread))


def thread_key(chat_id: int, message_thread_id: int | None = None) -> str:
    """The thread key string of a chat and optional forum topic."""
    return f"{chat_id}:{message_thread_id or 0}"


def user_key(user_id: int) -> str:
    """The user key string of a Telegram user id."""
    if user_id < 0:
        raise ValueError(f"Telegram user ids are positive, got {user_id}")
    return str(user_id)


def is_valid_key(kind: KeyKind, key: str) -> bool:
    """Whether ``key`` is well formed for a topic keyed by ``kind``."""
    if kind == "thread":
        return _THREAD_KEY.fullmatch(key) is not None
    if kind == "user":
        return _USER_KEY.fullmatch(key) is not None
    return key == GLOBAL_KEY
