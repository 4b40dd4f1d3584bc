"""What the Telegram emulator remembers: per bot token, chats, messages, drafts, files, updates."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

ALL_UPDATE_TYPES_BY_DEFAULT_EXCLUDED = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)


class TelegramError(Exception):
    """A Bot API error: HTTP status, description, optional retry_after (flood control)."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {reason}")


@dataclass(slots=True)
class StoredFile:
    """A file the emulator can serve through getFile and the file download URL."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    kind: str
    mime_type: str | None = None
    file_name: str | None = None
    from_bot: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(slots=True)
class ChatMessage:
    """One message as the chat shows it (sent by the bot or by a user)."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    kind: str  # text, photo, document, voice, invoice, service, payment
    json: dict[str, Any]
    thread_id: int | None = None
    text: str | None = None  # plain text (entities stripped), or caption for media
    raw_text: str | None = None  # what the bot sent, markup included
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)
    media_group_id: str | None = None
    edits: list[str] = field(default_factory=list)  # previous plain texts, oldest first
    deleted: bool = False


@dataclass(slots=True)
class Draft:
    """The latest text streamed with sendMessageDraft for one (chat, draft_id)."""

    draft_id: int
    thread_id: int | None
    text: str
    raw_text: str
    history: list[str] = field(default_factory=list)
    active: bool = True  # False once the bot sent a message to the same chat/thread


@dataclass(slots=True)
class Topic:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    created_by_bot: bool = False
    names: list[str] = field(default_factory=list)  # every name it had, oldest first


@dataclass(slots=True)
class Invoice:
    message_id: int
    chat_id: int
    title: str
    description: str
    payload: str
    currency: str
    prices: list[dict[str, Any]]
    total_amount: int
    thread_id: int | None = None


@dataclass(slots=True)
class ChatAction:
    action: str
    thread_id: int | None
    at: float


@dataclass(slots=True)
class ChatState:
    """A chat: its identity plus everything shown in it."""

    id: int
    type: str  # private, group, supergroup
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)
    """Member statuses getChatMember reports (``creator``, ``administrator``, ``member``);
    anyone else is a ``member`` of a group (``left`` of another user's private chat)."""
    bot_can_delete: bool = True
    """The bot is an administrator with ``can_delete_messages`` (deleteForumTopic needs it in
    a group)."""
    messages: list[ChatMessage] = field(default_factory=list)
    drafts: dict[int, Draft] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    invoices: list[Invoice] = field(default_factory=list)
    actions: list[ChatAction] = field(default_factory=list)
    _next_message_id: int = 1

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    def next_message_id(self) -> int:
        mid = self._next_message_id
        self._next_message_id += 1
        return mid

    def find(self, message_id: int) -> ChatMessage | None:
        for msg in reversed(self.messages):
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None

    def visible(self, thread_id: int | None = None) -> list[ChatMessage]:
        return [
            m
            for m in self.messages
            if not m.deleted and (thread_id is None or m.thread_id == thread_id)
        ]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title is not None:
            out["title"] = self.title
        if self.first_name is not None:
            out["first_name"] = self.first_name
        if self.username is not None:
            out["username"] = self.username
        if self.is_forum:
            out["is_forum"] = True
        return out


@dataclass(slots=True)
class PreCheckout:
    id: str
    user_id: int
    currency: str
    total_amount: int
    payload: str
    answered: bool = False
    ok: bool | None = None
    error_message: str | None = None


@dataclass(slots=True)
class Payment:
    charge_id: str
    user_id: int
    chat_id: int
    currency: str
    total_amount: int
    payload: str
    refunded: bool = False


@dataclass(slots=True)
class ApiCall:
    """A Bot API request as received: method name and decoded parameters."""

    method: str
    params: dict[str, Any]
    at: float
    error: str | None = None


@dataclass(slots=True)
class Webhook:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: int = 0


@dataclass(slots=True)
class ArmedFailure:
    """A failure to answer on the next matching call(s), instead of executing the method."""

    method: str | None  # None matches any method
    chat_id: int | None
    error: TelegramError
    remaining: int


class Notifier:
    """Wakes every waiter when something happens (new update, webhook change)."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(fut)


@dataclass
class BotState:
    """Everything one bot token owns."""

    token: str
    bot_id: int
    first_name: str = "Emulated Bot"
    username: str = ""
    chats: dict[int, ChatState] = field(default_factory=dict)
    updates: deque[dict[str, Any]] = field(default_factory=deque)
    next_update_id: int = 1
    allowed_updates: list[str] | None = None
    webhook: Webhook | None = None
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pre_checkout_queries: dict[str, PreCheckout] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    refunds: list[Payment] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    failures: list[ArmedFailure] = field(default_factory=list)
    blocked_by: set[int] = field(default_factory=set)
    """Chats (private: their user) that blocked the bot: sending there answers 403."""
    notifier: Notifier = field(default_factory=Notifier)
    poll_generation: int = 0

    def __post_init__(self) -> None:
        if not self.username:
            self.username = f"emu{self.bot_id}_bot"

    def user_json(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def enqueue(self, update_body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self.next_update_id, **update_body}
        self.next_update_id += 1
        self.updates.append(update)
        self.notifier.notify()
        return update


def parse_token(token: str) -> int | None:
    """The bot id of a well-formed token "<digits>:<secret>", else None."""
    bot_id, sep, secret = token.partition(":")
    if not sep or not bot_id.isdigit() or not secret:
        return None
    return int(bot_id)


_kinds_prefix = {
    "photo": "AgAC",
    "document": "BQAC",
    "voice": "AwAC",
    "video": "BAAC",
    "audio": "CQAC",
}


class FileStore:
    """Files by file_id, shared by all bots of one emulator (as file ids are per bot in reality,
    this is a simplification the bot cannot observe)."""

    def __init__(self) -> None:
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._counter = itertools.count(1)

    def add(
        self,
        data: bytes,
        kind: str,
        *,
        mime_type: str | None = None,
        file_name: str | None = None,
        from_bot: bool = False,
    ) -> StoredFile:
        n = next(self._counter)
        file_id = _kinds_prefix.get(kind, "BQAC") + secrets.token_urlsafe(24)
        unique = "AQAD" + secrets.token_urlsafe(8)
        folder = {"photo": "photos", "voice": "voice", "video": "videos", "audio": "music"}.get(
            kind, "documents"
        )
        ext = _extension(file_name, mime_type, kind)
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            data=data,
            file_path=f"{folder}/file_{n}{ext}",
            kind=kind,
            mime_type=mime_type,
            file_name=file_name,
            from_bot=from_bot,
        )
        self.by_id[file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored


def _extension(file_name: str | None, mime_type: str | None, kind: str) -> str:
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[1]
    if kind == "photo":
        return ".jpg"
    if kind == "voice":
        return ".oga"
    if mime_type == "application/pdf":
        return ".pdf"
    return ""


def now_ts() -> int:
    return int(time.time())
