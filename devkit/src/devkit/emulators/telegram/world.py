"""The emulator's whole state: bots by token, the file store, flood control, a clock."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .flood import FloodConfig, FloodLimiter
from .state import (
    BotState,
    ChatState,
    FileStore,
    StoredFile,
    TelegramError,
    bad_request,
    parse_token,
)

DEFAULT_TOKEN = "123456789:EMULATOR-TEST-TOKEN"


@dataclass
class World:
    default_token: str = DEFAULT_TOKEN
    allowed_tokens: frozenset[str] | None = None
    flood: FloodLimiter = field(default_factory=FloodLimiter)
    files: FileStore = field(default_factory=FileStore)
    clock: Callable[[], float] = time.monotonic
    bots: dict[str, BotState] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)

    def bot(self, token: str | None = None) -> BotState:
        """The state of a bot token (created on first use); 401 for an unknown or bad token."""
        token = token or self.default_token
        found = self.bots.get(token)
        if found is not None:
            return found
        bot_id = parse_token(token)
        if bot_id is None or (self.allowed_tokens is not None and token not in self.allowed_tokens):
            raise TelegramError(401, "Unauthorized")
        state = BotState(token=token, bot_id=bot_id)
        self.bots[token] = state
        return state

    def reset(self) -> None:
        """Forget all bots, chats, files and flood history (keeps the configuration)."""
        for bot in self.bots.values():
            bot.webhook = None  # stops its delivery task
            bot.notifier.notify()
        self.bots.clear()
        self.files = FileStore()
        self.flood.reset()
        self.users.clear()

    def configure_flood(self, config: FloodConfig) -> None:
        self.flood.config = config
        self.flood.reset()

    # ---- users and chats -------------------------------------------------------------

    def user_json(self, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            user = {
                "id": user_id,
                "is_bot": False,
                "first_name": f"User{user_id}",
                "username": f"user{user_id}",
                "language_code": "en",
            }
            self.users[user_id] = user
        return user

    def chat(self, bot: BotState, chat_id: int) -> ChatState:
        chat = bot.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def ensure_chat(
        self,
        bot: BotState,
        chat_id: int,
        *,
        type: str | None = None,
        title: str | None = None,
        is_forum: bool = False,
    ) -> ChatState:
        chat = bot.chats.get(chat_id)
        if chat is not None:
            if is_forum:
                chat.is_forum = True
            return chat
        kind = type or ("private" if chat_id > 0 else "supergroup")
        if kind == "private":
            user = self.user_json(chat_id)
            chat = ChatState(
                id=chat_id,
                type="private",
                first_name=user["first_name"],
                username=user.get("username"),
                is_forum=is_forum,
            )
        else:
            chat = ChatState(
                id=chat_id, type=kind, title=title or f"Group {chat_id}", is_forum=is_forum
            )
        bot.chats[chat_id] = chat
        return chat

    def resolve_chat(self, bot: BotState, raw: Any) -> ChatState:
        """chat_id as int, numeric string or @username."""
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in bot.chats.values():
                if chat.username and "@" + chat.username == raw:
                    return chat
            raise bad_request("chat not found")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        return self.chat(bot, chat_id)

    def file(self, file_id: str) -> StoredFile | None:
        return self.files.by_id.get(file_id)


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG; a default for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                break
            marker = data[i + 1]
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + length
    return 800, 600
