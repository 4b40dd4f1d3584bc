"""What users do: each action adds the message to the chat and queues the Update it causes."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from .api import create_topic, media_json
from .entities import utf16_len
from .state import BotState, ChatMessage, ChatState, Payment, PreCheckout, bad_request, now_ts
from .world import World

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


@dataclass(slots=True)
class MediaItem:
    """One item of a user's album: kind is photo or document."""

    kind: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    caption: str | None = None


class UserActions:
    """Inject user behaviour into a World; every method returns the Update it created."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _prepare(
        self,
        bot: BotState,
        chat_id: int,
        user_id: int | None,
        thread_id: int | None,
        reply_to: int | None = None,
    ) -> tuple[ChatState, dict[str, Any]]:
        chat = self.world.ensure_chat(bot, chat_id)
        if chat.is_forum and thread_id is not None and thread_id not in chat.topics:
            raise bad_request("message thread not found")
        sender = self.world.user_json(user_id if user_id is not None else chat_id)
        msg: dict[str, Any] = {
            "message_id": chat.next_message_id(),
            "from": sender,
            "chat": chat.to_json(),
            "date": now_ts(),
        }
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            if chat.is_forum:
                msg["is_topic_message"] = True
        if reply_to is not None:
            target = chat.find(reply_to)
            if target is None:
                raise bad_request("message to be replied not found")
            msg["reply_to_message"] = {
                k: v for k, v in target.json.items() if k != "reply_to_message"
            }
        return chat, msg

    def _record(
        self,
        bot: BotState,
        chat: ChatState,
        msg: dict[str, Any],
        kind: str,
        *,
        text: str | None = None,
        file_ids: list[str] | None = None,
        update_kind: str = "message",
    ) -> dict[str, Any]:
        chat.messages.append(
            ChatMessage(
                message_id=msg["message_id"],
                chat_id=chat.id,
                from_bot=False,
                date=msg["date"],
                kind=kind,
                json=msg,
                thread_id=msg.get("message_thread_id"),
                text=text,
                raw_text=text,
                entities=list(msg.get("entities", msg.get("caption_entities", []))),
                file_ids=file_ids or [],
                media_group_id=msg.get("media_group_id"),
            )
        )
        return bot.enqueue({update_kind: msg})

    def text(
        self,
        bot: BotState,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A text message; a leading /command gets its bot_command entity, as Telegram adds."""
        chat, msg = self._prepare(bot, chat_id, user_id, thread_id, reply_to)
        msg["text"] = text
        ents = list(entities or [])
        match = _COMMAND.match(text)
        if match and not entities:
            ents.append({"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))})
        if ents:
            msg["entities"] = ents
        return self._record(bot, chat, msg, "text", text=text)

    def command(
        self,
        bot: BotState,
        chat_id: int,
        command: str,
        args: str = "",
        *,
        user_id: int | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        text = "/" + command.lstrip("/") + (" " + args if args else "")
        return self.text(bot, chat_id, text, user_id=user_id, thread_id=thread_id)

    def _media(
        self,
        bot: BotState,
        chat_id: int,
        kind: str,
        data: bytes,
        *,
        file_name: str | None,
        mime_type: str | None,
        caption: str | None,
        user_id: int | None,
        thread_id: int | None,
        media_group_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        chat, msg = self._prepare(bot, chat_id, user_id, thread_id)
        stored = self.world.files.add(data, kind, mime_type=mime_type, file_name=file_name)
        media = media_json(stored)
        if isinstance(media, dict) and extra:
            media.update(extra)
        msg[kind] = media
        if caption:
            msg["caption"] = caption
        if media_group_id:
            msg["media_group_id"] = media_group_id
        return self._record(bot, chat, msg, kind, text=caption, file_ids=[stored.file_id])

    def photo(
        self,
        bot: BotState,
        chat_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        user_id: int | None = None,
        thread_id: int | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        return self._media(
            bot,
            chat_id,
            "photo",
            data,
            file_name=None,
            mime_type="image/jpeg",
            caption=caption,
            user_id=user_id,
            thread_id=thread_id,
            media_group_id=media_group_id,
        )

    def document(
        self,
        bot: BotState,
        chat_id: int,
        data: bytes,
        *,
        file_name: str = "file.bin",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        user_id: int | None = None,
        thread_id: int | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        return self._media(
            bot,
            chat_id,
            "document",
            data,
            file_name=file_name,
            mime_type=mime_type,
            caption=caption,
            user_id=user_id,
            thread_id=thread_id,
            media_group_id=media_group_id,
        )

    def voice(
        self,
        bot: BotState,
        chat_id: int,
        data: bytes,
        *,
        duration: int = 1,
        mime_type: str = "audio/ogg",
        user_id: int | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        return self._media(
            bot,
            chat_id,
            "voice",
            data,
            file_name=None,
            mime_type=mime_type,
            caption=None,
            user_id=user_id,
            thread_id=thread_id,
            extra={"duration": duration},
        )

    def media_group(
        self,
        bot: BotState,
        chat_id: int,
        items: list[MediaItem],
        *,
        user_id: int | None = None,
        thread_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """An album: one message (and one update) per item, sharing a media_group_id."""
        if not 2 <= len(items) <= 10:
            raise bad_request("wrong number of messages in the media group; must be 2-10")
        group_id = str(secrets.randbits(62))
        out = []
        for item in items:
            if item.kind == "photo":
                out.append(
                    self.photo(
                        bot,
                        chat_id,
                        item.data,
                        caption=item.caption,
                        user_id=user_id,
                        thread_id=thread_id,
                        media_group_id=group_id,
                    )
                )
            else:
                out.append(
                    self.document(
                        bot,
                        chat_id,
                        item.data,
                        file_name=item.file_name or "file.bin",
                        mime_type=item.mime_type or "application/octet-stream",
                        caption=item.caption,
                        user_id=user_id,
                        thread_id=thread_id,
                        media_group_id=group_id,
                    )
                )
        return out

    def edit(self, bot: BotState, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edits one of their text messages: an edited_message update."""
        chat = self.world.chat(bot, chat_id)
        msg = chat.find(message_id)
        if msg is None or msg.from_bot or msg.kind != "text":
            raise bad_request("message to edit not found")
        msg.edits.append(msg.text or "")
        msg.text = msg.raw_text = text
        msg.json["text"] = text
        msg.json["edit_date"] = now_ts()
        return bot.enqueue({"edited_message": dict(msg.json)})

    def create_topic(
        self, bot: BotState, chat_id: int, name: str, *, user_id: int | None = None
    ) -> dict[str, Any]:
        """A user opens a forum topic; the update is the forum_topic_created service message."""
        chat = self.world.ensure_chat(bot, chat_id)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        sender = self.world.user_json(user_id if user_id is not None else abs(chat_id))
        topic = create_topic(chat, sender, name, 7322096, None, by_bot=False)
        return bot.enqueue({"message": chat.messages[-1].json if topic else {}})

    def pre_checkout_query(
        self,
        bot: BotState,
        user_id: int,
        total_amount: int,
        payload: str,
        *,
        currency: str = "XTR",
    ) -> dict[str, Any]:
        query = PreCheckout(
            id=str(secrets.randbits(63)),
            user_id=user_id,
            currency=currency,
            total_amount=total_amount,
            payload=payload,
        )
        bot.pre_checkout_queries[query.id] = query
        return bot.enqueue(
            {
                "pre_checkout_query": {
                    "id": query.id,
                    "from": self.world.user_json(user_id),
                    "currency": currency,
                    "total_amount": total_amount,
                    "invoice_payload": payload,
                }
            }
        )

    def successful_payment(
        self,
        bot: BotState,
        chat_id: int,
        total_amount: int,
        payload: str,
        *,
        currency: str = "XTR",
        user_id: int | None = None,
        charge_id: str | None = None,
    ) -> dict[str, Any]:
        chat, msg = self._prepare(bot, chat_id, user_id, None)
        payer = user_id if user_id is not None else chat_id
        charge = charge_id or "stxEMU" + secrets.token_urlsafe(24)
        msg["successful_payment"] = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge,
            "provider_payment_charge_id": "",
        }
        bot.payments[charge] = Payment(charge, payer, chat.id, currency, total_amount, payload)
        return self._record(bot, chat, msg, "payment")

    def press_button(
        self, bot: BotState, chat_id: int, message_id: int, text: str, *, user_id: int | None
    ) -> dict[str, Any]:
        """A user presses an inline button of a bot message (by its label, or part of it)."""
        chat = self.world.chat(bot, chat_id)
        message = chat.find(message_id)
        if message is None:
            raise bad_request("message not found")
        rows = (message.json.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [b for row in rows for b in row if "callback_data" in b]
        button = next((b for b in buttons if b["text"] == text), None) or next(
            (b for b in buttons if text in b["text"]), None
        )
        if button is None:
            raise bad_request(f"no button {text!r} under message {message_id}")
        sender = self.world.user_json(user_id if user_id is not None else chat_id)
        query = {
            "id": f"cbq{bot.next_update_id}",
            "from": sender,
            "chat_instance": str(chat.id),
            "message": dict(message.json),
            "data": button["callback_data"],
        }
        return bot.enqueue({"callback_query": query})

    def stop_generation(
        self, bot: BotState, chat_id: int, draft_id: int, *, thread_id: int | None = None
    ) -> dict[str, Any]:
        """The user presses the stop button under a draft (can_stop=True)."""
        chat = self.world.chat(bot, chat_id)
        body: dict[str, Any] = {"chat": chat.to_json(), "draft_id": draft_id}
        if thread_id is not None:
            body["message_thread_id"] = thread_id
        return bot.enqueue({"stopped_message_generation": body})
