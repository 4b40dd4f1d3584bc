"""Bot API methods as the emulator executes them (no HTTP here: params in, result or error out)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from .entities import EntityParseError, EntityRangeError, FormattedText, utf16_len
from .formatting import MAX_CAPTION, MAX_TEXT, UnsupportedParseMode, format_text
from .params import Params
from .state import (
    ALL_UPDATE_TYPES_BY_DEFAULT_EXCLUDED,
    BotState,
    ChatAction,
    ChatMessage,
    ChatState,
    Draft,
    Invoice,
    StoredFile,
    TelegramError,
    Topic,
    Webhook,
    bad_request,
    now_ts,
)
from .world import World, image_size

Handler = Callable[["BotApi", BotState, Params], Awaitable[Any]]

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
TOPIC_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_DOWNLOAD = 20 * 1024 * 1024

_METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _METHODS[name.lower()] = fn
        return fn

    return register


def update_type(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


class BotApi:
    """Executes Bot API methods against a World."""

    def __init__(self, world: World, on_webhook_change: Callable[[BotState], None]) -> None:
        self.world = world
        self._on_webhook_change = on_webhook_change

    @staticmethod
    def knows(name: str) -> bool:
        return name.lower() in _METHODS

    async def call(self, token: str, name: str, params: Params) -> Any:
        handler = _METHODS.get(name.lower())
        bot = self.world.bot(token)
        if handler is None:
            raise TelegramError(404, "Not Found")
        self._armed_failure(bot, name, params)
        self._blocked(bot, name, params)
        return await handler(self, bot, params)

    def _blocked(self, bot: BotState, name: str, params: Params) -> None:
        """A message to a chat that blocked the bot: 403, as Telegram answers."""
        if not bot.blocked_by or name.lower() not in self.world.flood.config.methods:
            return
        try:
            chat_id = params.get_int("chat_id")
        except TelegramError:
            return
        if chat_id in bot.blocked_by:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")

    def _armed_failure(self, bot: BotState, name: str, params: Params) -> None:
        for armed in bot.failures:
            if armed.method is not None and armed.method.lower() != name.lower():
                continue
            if armed.chat_id is not None:
                try:
                    if params.get_int("chat_id") != armed.chat_id:
                        continue
                except TelegramError:
                    continue
            armed.remaining -= 1
            if armed.remaining <= 0:
                bot.failures.remove(armed)
            raise armed.error

    # ---- shared helpers -----------------------------------------------------------------

    def _chat(self, bot: BotState, params: Params) -> ChatState:
        raw = params.values.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        return self.world.resolve_chat(bot, raw)

    def _thread(self, chat: ChatState, params: Params) -> int | None:
        thread_id = params.get_int("message_thread_id")
        if thread_id is None:
            return None
        if chat.is_forum and thread_id not in chat.topics:
            raise bad_request("message thread not found")
        return thread_id

    def _flood(self, bot: BotState, chat: ChatState, name: str, cost: int = 1) -> None:
        limiter = self.world.flood
        if name.lower() not in limiter.config.methods:
            return
        wait = limiter.check(bot.token, chat.id, chat.is_private, self.world.clock(), cost)
        if wait:
            raise TelegramError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    def _format(self, text: str, params: Params, prefix: str = "") -> FormattedText:
        parse_mode = params.get_str("parse_mode")
        entities = params.get_json("caption_entities" if prefix == "caption_" else "entities")
        try:
            return format_text(text, parse_mode, entities)
        except EntityParseError as e:
            raise bad_request(f"can't parse entities: {e}") from None
        except EntityRangeError as e:
            raise bad_request(str(e)) from None
        except UnsupportedParseMode as e:
            raise bad_request(f"unsupported parse_mode {e}") from None

    def _base_json(
        self, bot: BotState, chat: ChatState, message_id: int, thread_id: int | None, params: Params
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": message_id,
            "from": bot.user_json(),
            "chat": chat.to_json(),
            "date": now_ts(),
        }
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            if chat.is_forum:
                msg["is_topic_message"] = True
        reply_to = self._reply_to(chat, params)
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        markup = params.get_json("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        return msg

    def _reply_to(self, chat: ChatState, params: Params) -> dict[str, Any] | None:
        reply = params.get_json("reply_parameters")
        target: int | None = None
        allow_missing = params.get_bool("allow_sending_without_reply")
        if isinstance(reply, dict) and "message_id" in reply:
            target = int(reply["message_id"])
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif params.get_int("reply_to_message_id") is not None:
            target = params.get_int("reply_to_message_id")
        if target is None:
            return None
        found = chat.find(target)
        if found is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return {k: v for k, v in found.json.items() if k != "reply_to_message"}

    def _hide_drafts(self, chat: ChatState, thread_id: int | None) -> None:
        for draft in chat.drafts.values():
            if draft.thread_id == thread_id:
                draft.active = False

    def _store(self, chat: ChatState, msg: ChatMessage) -> ChatMessage:
        chat.messages.append(msg)
        if msg.from_bot:
            self._hide_drafts(chat, msg.thread_id)
        return msg

    def _input_file(self, params: Params, field: str, kind: str) -> StoredFile:
        raw = params.values.get(field)
        upload = None
        if isinstance(raw, str) and raw.startswith("attach://"):
            upload = params.uploads.get(raw[len("attach://") :])
            if upload is None:
                raise bad_request(f"there is no {field} in the request")
        elif raw is None:
            upload = params.uploads.get(field)
            if upload is None:
                raise bad_request(f"there is no {field} in the request")
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            return self.world.files.add(
                upload.data,
                kind,
                mime_type=upload.content_type,
                file_name=upload.filename,
                from_bot=True,
            )
        ref = str(raw)
        if ref.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        stored = self.world.file(ref)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def _caption(
        self, params: Params, msg: dict[str, Any]
    ) -> tuple[str | None, list[dict[str, Any]]]:
        caption = params.get_str("caption")
        if not caption:
            return None, []
        formatted = self._format(caption, params, prefix="caption_")
        if utf16_len(formatted.text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        msg["caption"] = formatted.text
        ents = formatted.entities_json()
        if ents:
            msg["caption_entities"] = ents
        return formatted.text, ents


def media_json(stored: StoredFile) -> dict[str, Any] | list[dict[str, Any]]:
    """The Message field describing a stored file (a PhotoSize list for photos)."""
    if stored.kind == "photo":
        width, height = image_size(stored.data)
        scale = min(1.0, 90 / max(width, height, 1))
        thumb = {
            "file_id": stored.file_id + "_t",
            "file_unique_id": stored.file_unique_id + "_t",
            "width": max(1, int(width * scale)),
            "height": max(1, int(height * scale)),
            "file_size": min(stored.size, 2048),
        }
        full = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": stored.size,
        }
        return [thumb, full]
    out: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if stored.mime_type:
        out["mime_type"] = stored.mime_type
    if stored.kind == "document" and stored.file_name:
        out["file_name"] = stored.file_name
    if stored.kind == "voice":
        out["duration"] = max(1, stored.size // 2000)
    return out


# ---- updates and webhooks ---------------------------------------------------------------


@method("getMe")
async def get_me(api: BotApi, bot: BotState, p: Params) -> Any:
    return {
        **bot.user_json(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "has_topics_enabled": True,
    }


@method("getUpdates")
async def get_updates(api: BotApi, bot: BotState, p: Params) -> Any:
    if bot.webhook is not None:
        raise TelegramError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = p.get_int("offset")
    limit = max(1, min(100, p.get_int("limit", 100) or 100))
    timeout = max(0, min(50, p.get_int("timeout", 0) or 0))
    allowed = p.get_json("allowed_updates")
    if isinstance(allowed, list):
        bot.allowed_updates = [str(a) for a in allowed]
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.notifier.notify()  # an older long poll ends with 409, as on Telegram
    if offset is not None:
        if offset < 0:
            keep = list(bot.updates)[offset:]
            bot.updates.clear()
            bot.updates.extend(keep)
        else:
            while bot.updates and bot.updates[0]["update_id"] < offset:
                bot.updates.popleft()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = deliverable(bot, limit)
        if result or loop.time() >= deadline:
            return result
        await bot.notifier.wait(deadline - loop.time())
        if bot.poll_generation != generation:
            raise TelegramError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )


def _allowed(bot: BotState, update: dict[str, Any]) -> bool:
    kind = update_type(update)
    if not bot.allowed_updates:
        return kind not in ALL_UPDATE_TYPES_BY_DEFAULT_EXCLUDED
    return kind in bot.allowed_updates


def deliverable(bot: BotState, limit: int) -> list[dict[str, Any]]:
    # updates the bot did not ask for are dropped, as Telegram does not keep them
    while bot.updates and not _allowed(bot, bot.updates[0]):
        bot.updates.popleft()
    return [u for u in bot.updates if _allowed(bot, u)][:limit]


@method("setWebhook")
async def set_webhook(api: BotApi, bot: BotState, p: Params) -> Any:
    url = p.get_str("url") or ""
    if not url:
        return await delete_webhook(api, bot, p)
    if not url.startswith(("http://", "https://")):
        raise bad_request("invalid webhook URL specified")
    secret = p.get_str("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = p.get_json("allowed_updates")
    if isinstance(allowed, list):
        bot.allowed_updates = [str(a) for a in allowed]
    if p.get_bool("drop_pending_updates"):
        bot.updates.clear()
    bot.webhook = Webhook(
        url=url,
        secret_token=secret,
        allowed_updates=bot.allowed_updates,
        max_connections=p.get_int("max_connections", 40) or 40,
    )
    bot.poll_generation += 1
    api._on_webhook_change(bot)
    return True


@method("deleteWebhook")
async def delete_webhook(api: BotApi, bot: BotState, p: Params) -> Any:
    if p.get_bool("drop_pending_updates"):
        bot.updates.clear()
    bot.webhook = None
    api._on_webhook_change(bot)
    return True


@method("getWebhookInfo")
async def get_webhook_info(api: BotApi, bot: BotState, p: Params) -> Any:
    hook = bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


# ---- messages -----------------------------------------------------------------------------


@method("sendMessage")
async def send_message(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    thread_id = api._thread(chat, p)
    text = p.get_str("text") or ""
    formatted = api._format(text, p)
    if not formatted.text:
        raise bad_request("message text is empty")
    if utf16_len(formatted.text) > MAX_TEXT:
        raise bad_request("message is too long")
    api._flood(bot, chat, "sendMessage")
    message_id = chat.next_message_id()
    msg = api._base_json(bot, chat, message_id, thread_id, p)
    msg["text"] = formatted.text
    entities = formatted.entities_json()
    if entities:
        msg["entities"] = entities
    api._store(
        chat,
        ChatMessage(
            message_id=message_id,
            chat_id=chat.id,
            from_bot=True,
            date=msg["date"],
            kind="text",
            json=msg,
            thread_id=thread_id,
            text=formatted.text,
            raw_text=text,
            parse_mode=p.get_str("parse_mode"),
            entities=entities,
        ),
    )
    return msg


@method("sendMessageDraft")
async def send_message_draft(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    if not chat.is_private:
        raise bad_request("message drafts can be sent only to private chats")
    draft_id = p.req_int("draft_id")
    if draft_id == 0:
        raise bad_request("draft_id must be non-zero")
    thread_id = api._thread(chat, p)
    text = p.get_str("text") or ""
    formatted = api._format(text, p) if text else FormattedText("")
    if utf16_len(formatted.text) > MAX_TEXT:
        raise bad_request("message is too long")
    api._flood(bot, chat, "sendMessageDraft")
    draft = chat.drafts.get(draft_id)
    if draft is None:
        draft = Draft(draft_id=draft_id, thread_id=thread_id, text="", raw_text="")
        chat.drafts[draft_id] = draft
    draft.thread_id = thread_id
    draft.text = formatted.text
    draft.raw_text = text
    draft.active = True
    draft.history.append(formatted.text)
    return True


@method("editMessageText")
async def edit_message_text(api: BotApi, bot: BotState, p: Params) -> Any:
    if p.get_str("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = api._chat(bot, p)
    message_id = p.req_int("message_id")
    msg = chat.find(message_id)
    if msg is None:
        raise bad_request("message to edit not found")
    if not msg.from_bot:
        raise bad_request("message can't be edited")
    if msg.kind != "text":
        raise bad_request("there is no text in the message to edit")
    text = p.get_str("text") or ""
    formatted = api._format(text, p)
    if not formatted.text:
        raise bad_request("message text is empty")
    if utf16_len(formatted.text) > MAX_TEXT:
        raise bad_request("message is too long")
    entities = formatted.entities_json()
    markup = p.get_json("reply_markup")
    if (
        formatted.text == msg.text
        and entities == msg.entities
        and markup == msg.json.get("reply_markup")
    ):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a content and reply markup of the current message"
        )
    api._flood(bot, chat, "editMessageText")
    msg.edits.append(msg.text or "")
    msg.text, msg.raw_text, msg.entities = formatted.text, text, entities
    msg.parse_mode = p.get_str("parse_mode")
    msg.json["text"] = formatted.text
    msg.json["edit_date"] = now_ts()
    if entities:
        msg.json["entities"] = entities
    else:
        msg.json.pop("entities", None)
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        msg.json["reply_markup"] = markup
    return msg.json


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(api: BotApi, bot: BotState, p: Params) -> Any:
    """Replace (or, without ``reply_markup``, remove) a bot message's inline keyboard."""
    if p.get_str("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = api._chat(bot, p)
    msg = chat.find(p.req_int("message_id"))
    if msg is None:
        raise bad_request("message to edit not found")
    if not msg.from_bot:
        raise bad_request("message can't be edited")
    markup = p.get_json("reply_markup")
    keyboard = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
    if keyboard == msg.json.get("reply_markup"):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a content and reply markup of the current message"
        )
    if keyboard is None:
        msg.json.pop("reply_markup", None)
    else:
        msg.json["reply_markup"] = keyboard
    msg.json["edit_date"] = now_ts()
    return msg.json


@method("deleteMessage")
async def delete_message(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    msg = chat.find(p.req_int("message_id"))
    if msg is None:
        raise bad_request("message to delete not found")
    msg.deleted = True
    return True


@method("deleteMessages")
async def delete_messages(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    ids = p.get_json("message_ids") or []
    for mid in ids:
        found = chat.find(int(mid))
        if found is not None:
            found.deleted = True
    return True


@method("sendChatAction")
async def send_chat_action(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    action = p.get_str("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    thread_id = api._thread(chat, p)
    chat.actions.append(ChatAction(action=action, thread_id=thread_id, at=api.world.clock()))
    return True


# ---- media ---------------------------------------------------------------------------------


async def _send_media(
    api: BotApi, bot: BotState, p: Params, name: str, field: str, kind: str
) -> Any:
    chat = api._chat(bot, p)
    thread_id = api._thread(chat, p)
    stored = api._input_file(p, field, kind)
    api._flood(bot, chat, name)
    message_id = chat.next_message_id()
    msg = api._base_json(bot, chat, message_id, thread_id, p)
    msg[field] = media_json(stored)
    caption, entities = api._caption(p, msg)
    api._store(
        chat,
        ChatMessage(
            message_id=message_id,
            chat_id=chat.id,
            from_bot=True,
            date=msg["date"],
            kind=kind,
            json=msg,
            thread_id=thread_id,
            text=caption,
            raw_text=p.get_str("caption"),
            parse_mode=p.get_str("parse_mode"),
            entities=entities,
            file_ids=[stored.file_id],
        ),
    )
    return msg


@method("sendPhoto")
async def send_photo(api: BotApi, bot: BotState, p: Params) -> Any:
    return await _send_media(api, bot, p, "sendPhoto", "photo", "photo")


@method("sendDocument")
async def send_document(api: BotApi, bot: BotState, p: Params) -> Any:
    return await _send_media(api, bot, p, "sendDocument", "document", "document")


@method("sendVoice")
async def send_voice(api: BotApi, bot: BotState, p: Params) -> Any:
    return await _send_media(api, bot, p, "sendVoice", "voice", "voice")


@method("sendMediaGroup")
async def send_media_group(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    thread_id = api._thread(chat, p)
    media = p.get_json("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("wrong number of messages in the media group; must be 2-10")
    kinds = {str(m.get("type")) for m in media if isinstance(m, dict)}
    if "document" in kinds and len(kinds) > 1:
        raise bad_request("document can't be mixed with other media types")
    if not kinds <= {"photo", "document", "video", "audio"}:
        raise bad_request("unsupported media type in the media group")
    stored_files: list[tuple[dict[str, Any], StoredFile]] = []
    for item in media:
        sub = Params(values={"media": item.get("media")}, uploads=p.uploads)
        stored_files.append((item, api._input_file(sub, "media", str(item["type"]))))
    api._flood(bot, chat, "sendMediaGroup", cost=len(media))
    group_id = str(secrets.randbits(62))
    result = []
    for item, stored in stored_files:
        message_id = chat.next_message_id()
        msg = api._base_json(bot, chat, message_id, thread_id, p)
        msg["media_group_id"] = group_id
        msg[stored.kind] = media_json(stored)
        item_params = Params(values={k: v for k, v in item.items() if k != "media"})
        caption, entities = api._caption(item_params, msg)
        api._store(
            chat,
            ChatMessage(
                message_id=message_id,
                chat_id=chat.id,
                from_bot=True,
                date=msg["date"],
                kind=stored.kind,
                json=msg,
                thread_id=thread_id,
                text=caption,
                entities=entities,
                file_ids=[stored.file_id],
                media_group_id=group_id,
            ),
        )
        result.append(msg)
    return result


@method("getFile")
async def get_file(api: BotApi, bot: BotState, p: Params) -> Any:
    file_id = p.get_str("file_id") or ""
    stored = api.world.file(file_id.removesuffix("_t"))
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


# ---- topics, commands, chats ---------------------------------------------------------------


@method("createForumTopic")
async def create_forum_topic(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    name = p.get_str("name") or ""
    if not name.strip():
        raise bad_request("TOPIC_TITLE_EMPTY")
    if utf16_len(name) > 128:
        raise bad_request("TOPIC_TITLE_TOO_LONG")
    color = p.get_int("icon_color", 7322096) or 7322096
    if color not in TOPIC_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    emoji = p.get_str("icon_custom_emoji_id")
    topic = create_topic(chat, bot.user_json(), name, color, emoji, by_bot=True)
    out: dict[str, Any] = {"message_thread_id": topic.thread_id, "name": name, "icon_color": color}
    if emoji:
        out["icon_custom_emoji_id"] = emoji
    return out


def create_topic(
    chat: ChatState,
    sender: dict[str, Any],
    name: str,
    color: int,
    emoji: str | None,
    *,
    by_bot: bool,
) -> Topic:
    """Add a topic and its forum_topic_created service message (thread id = its message id)."""
    message_id = chat.next_message_id()
    created: dict[str, Any] = {"name": name, "icon_color": color}
    if emoji:
        created["icon_custom_emoji_id"] = emoji
    msg: dict[str, Any] = {
        "message_id": message_id,
        "from": sender,
        "chat": chat.to_json(),
        "date": now_ts(),
        "message_thread_id": message_id,
        "is_topic_message": True,
        "forum_topic_created": created,
    }
    chat.messages.append(
        ChatMessage(
            message_id=message_id,
            chat_id=chat.id,
            from_bot=by_bot,
            date=msg["date"],
            kind="service",
            json=msg,
            thread_id=message_id,
        )
    )
    topic = Topic(message_id, name, color, emoji, created_by_bot=by_bot, names=[name])
    chat.topics[message_id] = topic
    return topic


@method("editForumTopic")
async def edit_forum_topic(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    thread_id = p.req_int("message_thread_id")
    topic = chat.topics.get(thread_id)
    if topic is None:
        raise bad_request("message thread not found")
    name = p.get_str("name")
    emoji = p.get_str("icon_custom_emoji_id")
    if name is not None and utf16_len(name) > 128:
        raise bad_request("TOPIC_TITLE_TOO_LONG")
    if (name is None or name == topic.name) and (
        emoji is None or emoji == topic.icon_custom_emoji_id
    ):
        raise bad_request("TOPIC_NOT_MODIFIED")
    edited: dict[str, Any] = {}
    if name is not None and name != topic.name:
        topic.name = name
        topic.names.append(name)
        edited["name"] = name
    if emoji is not None:
        topic.icon_custom_emoji_id = emoji or None
        edited["icon_custom_emoji_id"] = emoji
    message_id = chat.next_message_id()
    msg: dict[str, Any] = {
        "message_id": message_id,
        "from": bot.user_json(),
        "chat": chat.to_json(),
        "date": now_ts(),
        "message_thread_id": thread_id,
        "is_topic_message": True,
        "forum_topic_edited": edited,
    }
    chat.messages.append(
        ChatMessage(message_id, chat.id, True, msg["date"], "service", msg, thread_id=thread_id)
    )
    return True


@method("deleteForumTopic")
async def delete_forum_topic(api: BotApi, bot: BotState, p: Params) -> Any:
    """Delete a topic and its messages: a forum supergroup (the bot an administrator with
    can_delete_messages) or a private chat in topics mode."""
    chat = api._chat(bot, p)
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if not chat.is_private and not chat.bot_can_delete:
        raise bad_request("not enough rights to delete a topic")
    thread_id = p.req_int("message_thread_id")
    if chat.topics.pop(thread_id, None) is None:
        raise bad_request("message thread not found")
    for msg in chat.messages:
        if msg.thread_id == thread_id:
            msg.deleted = True
    return True


@method("getChatMember")
async def get_chat_member(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    user_id = p.req_int("user_id")
    if chat.is_private:
        status = "member" if user_id == chat.id else "left"
    else:
        status = chat.members.get(user_id, "member")
    out: dict[str, Any] = {"status": status, "user": api.world.user_json(user_id)}
    if status == "administrator":
        out.update(can_be_edited=False, is_anonymous=False, can_manage_chat=True)
        out.update(can_delete_messages=True, can_manage_video_chats=False)
        out.update(can_restrict_members=False, can_promote_members=False)
        out.update(can_change_info=False, can_invite_users=True, can_post_stories=False)
        out.update(can_edit_stories=False, can_delete_stories=False)
        out.update(can_send_welcome_messages=False)
    elif status == "creator":
        out["is_anonymous"] = False
    return out


def _scope_key(p: Params) -> str:
    scope = p.get_json("scope") or {"type": "default"}
    parts = [str(scope.get("type", "default"))]
    if "chat_id" in scope:
        parts.append(str(scope["chat_id"]))
    if "user_id" in scope:
        parts.append(str(scope["user_id"]))
    parts.append(p.get_str("language_code") or "")
    return ":".join(parts)


@method("setMyCommands")
async def set_my_commands(api: BotApi, bot: BotState, p: Params) -> Any:
    commands = p.get_json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for cmd in commands:
        if not isinstance(cmd, dict) or not _COMMAND.match(str(cmd.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = str(cmd.get("description", ""))
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    bot.commands[_scope_key(p)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@method("getMyCommands")
async def get_my_commands(api: BotApi, bot: BotState, p: Params) -> Any:
    return bot.commands.get(_scope_key(p), [])


@method("deleteMyCommands")
async def delete_my_commands(api: BotApi, bot: BotState, p: Params) -> Any:
    bot.commands.pop(_scope_key(p), None)
    return True


@method("getChat")
async def get_chat(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    return {
        **chat.to_json(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
        },
    }


@method("answerCallbackQuery")
async def answer_callback_query(api: BotApi, bot: BotState, p: Params) -> Any:
    return True


# ---- payments ------------------------------------------------------------------------------


@method("sendInvoice")
async def send_invoice(api: BotApi, bot: BotState, p: Params) -> Any:
    chat = api._chat(bot, p)
    thread_id = api._thread(chat, p)
    title, description = p.get_str("title") or "", p.get_str("description") or ""
    payload, currency = p.get_str("payload") or "", p.get_str("currency") or ""
    if not 1 <= len(title) <= 32:
        raise bad_request("INVOICE_TITLE_INVALID" if title else "title is empty")
    if not 1 <= len(description) <= 255:
        raise bad_request("INVOICE_DESCRIPTION_INVALID" if description else "description is empty")
    if not 1 <= len(payload.encode()) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    prices = p.get_json("prices")
    if not isinstance(prices, list) or not prices:
        raise bad_request("prices is empty")
    if currency == "XTR" and len(prices) != 1:
        raise bad_request("STARS_INVOICE_INVALID")
    if currency == "XTR" and p.get_str("provider_token"):
        raise bad_request("STARS_INVOICE_INVALID")
    total = sum(int(price.get("amount", 0)) for price in prices)
    if total <= 0:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    api._flood(bot, chat, "sendInvoice")
    message_id = chat.next_message_id()
    msg = api._base_json(bot, chat, message_id, thread_id, p)
    msg["invoice"] = {
        "title": title,
        "description": description,
        "start_parameter": p.get_str("start_parameter") or "",
        "currency": currency,
        "total_amount": total,
    }
    chat.invoices.append(
        Invoice(
            message_id, chat.id, title, description, payload, currency, prices, total, thread_id
        )
    )
    api._store(
        chat,
        ChatMessage(
            message_id, chat.id, True, msg["date"], "invoice", msg, thread_id=thread_id, text=title
        ),
    )
    return msg


@method("answerPreCheckoutQuery")
async def answer_pre_checkout_query(api: BotApi, bot: BotState, p: Params) -> Any:
    query = bot.pre_checkout_queries.get(p.get_str("pre_checkout_query_id") or "")
    if query is None or query.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    ok = p.get_bool("ok")
    error_message = p.get_str("error_message")
    if not ok and not error_message:
        raise bad_request("error_message is empty")
    query.answered, query.ok, query.error_message = True, ok, error_message
    return True


@method("refundStarPayment")
async def refund_star_payment(api: BotApi, bot: BotState, p: Params) -> Any:
    payment = bot.payments.get(p.get_str("telegram_payment_charge_id") or "")
    if payment is None or payment.user_id != p.req_int("user_id"):
        raise bad_request("CHARGE_NOT_FOUND")
    if payment.refunded:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    payment.refunded = True
    bot.refunds.append(payment)
    chat = bot.chats.get(payment.chat_id)
    if chat is not None:
        message_id = chat.next_message_id()
        msg: dict[str, Any] = {
            "message_id": message_id,
            "from": api.world.user_json(payment.user_id),
            "chat": chat.to_json(),
            "date": now_ts(),
            "refunded_payment": {
                "currency": payment.currency,
                "total_amount": payment.total_amount,
                "invoice_payload": payment.payload,
                "telegram_payment_charge_id": payment.charge_id,
            },
        }
        chat.messages.append(ChatMessage(message_id, chat.id, False, msg["date"], "refund", msg))
    return True
