"""The Telegram Bot API emulator: an aiohttp server plus an in-process and HTTP control API.

Bot API:  POST/GET {base}/bot{token}/{method}, GET {base}/file/bot{token}/{file_path}
Control:  {base}/_control/... (JSON; token "_" means the default token), see `control_routes`.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from devkit.emulators._http import EmulatorServer, Server, json_response

from .api import BotApi
from .flood import FloodConfig
from .inject import MediaItem, UserActions
from .params import Params, Upload
from .state import (
    ApiCall,
    ArmedFailure,
    BotState,
    ChatAction,
    ChatMessage,
    ChatState,
    Draft,
    Invoice,
    Notifier,
    TelegramError,
    Topic,
)
from .webhook import WebhookDelivery
from .world import DEFAULT_TOKEN, World


class TelegramEmulator(EmulatorServer):
    """Emulated Telegram Bot API server; see the module docstring for the URLs."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        tokens: Iterable[str] | None = None,
        flood: FloodConfig | None = None,
        webhook_retry_delay: float = 0.2,
        webhook_timeout: float = 10.0,
        record_calls: bool = True,
    ) -> None:
        allowed = frozenset([token, *tokens]) if tokens is not None else None
        self.world = World(default_token=token, allowed_tokens=allowed)
        if flood is not None:
            self.world.configure_flood(flood)
        self.webhooks = WebhookDelivery(self._call, webhook_retry_delay, webhook_timeout)
        self.api = BotApi(self.world, self.webhooks.changed)
        self.users = UserActions(self.world)
        self._holds: list[tuple[str | None, str, asyncio.Event]] = []
        self.record_calls = record_calls
        self.activity = Notifier()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        for method, path, handler in self.control_routes():
            app.router.add_route(method, path, handler)
        self._server = Server(app)

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def token(self) -> str:
        return self.world.default_token

    async def stop(self) -> None:
        for _, _, release in self._holds:
            release.set()
        await self.webhooks.close()
        for bot in self.world.bots.values():
            bot.notifier.notify()
        await super().stop()

    # ---- Bot API over HTTP ------------------------------------------------------------------

    async def _call(self, token: str, method: str, params: Params) -> Any:
        try:
            result = await self.api.call(token, method, params)
        except TelegramError as e:
            self._record(token, method, params, e.description)
            raise
        self._record(token, method, params, None)
        return result

    def _record(self, token: str, method: str, params: Params, error: str | None) -> None:
        if self.record_calls:
            bot = self.world.bots.get(token)
            if bot is not None:
                bot.calls.append(ApiCall(method, params.to_record(), self.world.clock(), error))
        self.activity.notify()

    async def _handle_api(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        await self._held(token, method)
        try:
            params = await _read_params(request)
            result = await self._call(token, method, params)
        except TelegramError as e:
            return json_response(e.to_json(), status=e.code)
        return json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        try:
            self.world.bot(request.match_info["token"])
        except TelegramError as e:
            return json_response(e.to_json(), status=e.code)
        stored = self.world.files.by_path.get(request.match_info["path"])
        if stored is None:
            return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ---- in-process control: users' actions (each returns the Update created) --------------

    def bot(self, token: str | None = None) -> BotState:
        return self.world.bot(token)

    def add_private_chat(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str = "en",
        topics: bool = False,
        token: str | None = None,
    ) -> ChatState:
        """Register a user and their private chat with the bot (topics=True: topics mode)."""
        user = self.world.user_json(user_id)
        if first_name is not None:
            user["first_name"] = first_name
        if username is not None:
            user["username"] = username
        user["language_code"] = language_code
        return self.world.ensure_chat(self.bot(token), user_id, type="private", is_forum=topics)

    def add_group(
        self,
        chat_id: int,
        *,
        title: str | None = None,
        forum: bool = False,
        admins: tuple[int, ...] = (),
        creator: int | None = None,
        bot_can_delete: bool = True,
        token: str | None = None,
    ) -> ChatState:
        """Register a supergroup (forum=True: with topics; ``admins``/``creator``: what
        getChatMember reports for them, everyone else is a member; ``bot_can_delete``: the
        bot's right to delete topics)."""
        chat = self.world.ensure_chat(
            self.bot(token), chat_id, type="supergroup", title=title, is_forum=forum
        )
        chat.members.update(dict.fromkeys(admins, "administrator"))
        if creator is not None:
            chat.members[creator] = "creator"
        chat.bot_can_delete = bot_can_delete
        return chat

    def _inject(self, fn: Callable[[], Any]) -> Any:
        result = fn()
        self.activity.notify()
        return result

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.text(
                bot, chat_id, text, user_id=user_id, thread_id=thread_id, reply_to=reply_to
            )
        )

    def send_command(
        self,
        chat_id: int,
        command: str,
        args: str = "",
        *,
        user_id: int | None = None,
        thread_id: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.command(
                bot, chat_id, command, args, user_id=user_id, thread_id=thread_id
            )
        )

    def send_photo(
        self,
        chat_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        user_id: int | None = None,
        thread_id: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.photo(
                bot, chat_id, data, caption=caption, user_id=user_id, thread_id=thread_id
            )
        )

    def send_document(
        self,
        chat_id: int,
        data: bytes,
        *,
        file_name: str = "file.bin",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        user_id: int | None = None,
        thread_id: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.document(
                bot,
                chat_id,
                data,
                file_name=file_name,
                mime_type=mime_type,
                caption=caption,
                user_id=user_id,
                thread_id=thread_id,
            )
        )

    def send_voice(
        self,
        chat_id: int,
        data: bytes,
        *,
        duration: int = 1,
        mime_type: str = "audio/ogg",
        user_id: int | None = None,
        thread_id: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.voice(
                bot,
                chat_id,
                data,
                duration=duration,
                mime_type=mime_type,
                user_id=user_id,
                thread_id=thread_id,
            )
        )

    def send_media_group(
        self,
        chat_id: int,
        items: list[MediaItem],
        *,
        user_id: int | None = None,
        thread_id: int | None = None,
        token: str | None = None,
    ) -> list[dict[str, Any]]:
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.media_group(
                bot, chat_id, items, user_id=user_id, thread_id=thread_id
            )
        )

    def edit_message(
        self, chat_id: int, message_id: int, text: str, *, token: str | None = None
    ) -> dict[str, Any]:
        """The user edits their message: an edited_message update."""
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.edit(bot, chat_id, message_id, text)
        )

    def create_topic(
        self, chat_id: int, name: str, *, user_id: int | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """A user creates a forum topic; the returned message_thread_id addresses it."""
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.create_topic(bot, chat_id, name, user_id=user_id)
        )

    def pre_checkout_query(
        self,
        user_id: int,
        total_amount: int,
        payload: str,
        *,
        currency: str = "XTR",
        token: str | None = None,
    ) -> dict[str, Any]:
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.pre_checkout_query(
                bot, user_id, total_amount, payload, currency=currency
            )
        )

    def successful_payment(
        self,
        chat_id: int,
        total_amount: int,
        payload: str,
        *,
        currency: str = "XTR",
        user_id: int | None = None,
        charge_id: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.successful_payment(
                bot,
                chat_id,
                total_amount,
                payload,
                currency=currency,
                user_id=user_id,
                charge_id=charge_id,
            )
        )

    def stop_generation(
        self,
        chat_id: int,
        draft_id: int,
        *,
        thread_id: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.stop_generation(bot, chat_id, draft_id, thread_id=thread_id)
        )

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        user_id: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """A user presses the inline button labelled ``text`` (or containing it) under the
        bot's message: a callback_query update."""
        bot = self.bot(token)
        return self._inject(  # type: ignore[no-any-return]
            lambda: self.users.press_button(bot, chat_id, message_id, text, user_id=user_id)
        )

    def inject_update(self, body: dict[str, Any], *, token: str | None = None) -> dict[str, Any]:
        """Queue any Update body (without update_id) as-is."""
        bot = self.bot(token)
        return self._inject(lambda: bot.enqueue(body))  # type: ignore[no-any-return]

    # ---- in-process control: reading what chats show --------------------------------------

    def chat(self, chat_id: int, *, token: str | None = None) -> ChatState:
        return self.world.chat(self.bot(token), chat_id)

    def messages(
        self, chat_id: int, *, thread_id: int | None = None, token: str | None = None
    ) -> list[ChatMessage]:
        """Messages the chat shows now (deleted ones excluded), oldest first."""
        return self.chat(chat_id, token=token).visible(thread_id)

    def bot_messages(
        self, chat_id: int, *, thread_id: int | None = None, token: str | None = None
    ) -> list[ChatMessage]:
        return [m for m in self.messages(chat_id, thread_id=thread_id, token=token) if m.from_bot]

    def drafts(self, chat_id: int, *, token: str | None = None) -> dict[int, Draft]:
        return self.chat(chat_id, token=token).drafts

    def topics(self, chat_id: int, *, token: str | None = None) -> dict[int, Topic]:
        return self.chat(chat_id, token=token).topics

    def invoices(self, chat_id: int, *, token: str | None = None) -> list[Invoice]:
        return self.chat(chat_id, token=token).invoices

    def chat_actions(self, chat_id: int, *, token: str | None = None) -> list[ChatAction]:
        return self.chat(chat_id, token=token).actions

    def file_bytes(self, file_id: str) -> bytes:
        stored = self.world.file(file_id.removesuffix("_t"))
        if stored is None:
            raise KeyError(file_id)
        return stored.data

    def calls(self, method: str | None = None, *, token: str | None = None) -> list[ApiCall]:
        """Bot API calls received (failed ones included, with `error` set)."""
        calls = self.bot(token).calls
        if method is None:
            return list(calls)
        return [c for c in calls if c.method.lower() == method.lower()]

    def sends_per_chat(
        self, method: str = "sendMessage", *, token: str | None = None
    ) -> collections.Counter[int]:
        """How many ``method`` calls Telegram carried out per chat (refused ones not counted)."""
        counts: collections.Counter[int] = collections.Counter()
        for call in self.calls(method, token=token):
            if call.error is None and call.params.get("chat_id") is not None:
                counts[int(call.params["chat_id"])] += 1
        return counts

    def block_chat(self, chat_id: int, *, token: str | None = None) -> None:
        """The user of private chat ``chat_id`` blocks the bot: every message sent there
        from now on is answered 403 ``Forbidden: bot was blocked by the user``."""
        self.bot(token).blocked_by.add(chat_id)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until predicate() holds, re-checking after every API call or injection."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            await self.activity.wait(min(remaining, 0.05))

    # ---- in-process control: failures and limits ------------------------------------------

    def configure_flood(self, config: FloodConfig | None = None, **changes: Any) -> FloodConfig:
        """Replace or tweak the flood limits, e.g. configure_flood(enabled=False)."""
        base = config or self.world.flood.config
        new = dataclasses.replace(base, **changes)
        self.world.configure_flood(new)
        return new

    def fail_next(
        self,
        method: str | None = None,
        *,
        error_code: int = 400,
        description: str = "Bad Request: emulated failure",
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        token: str | None = None,
    ) -> None:
        """Answer the next `times` matching calls with this error instead of executing them."""
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if error_code == 429 and description == "Bad Request: emulated failure":
            description = f"Too Many Requests: retry after {retry_after}"
        self.bot(token).failures.append(
            ArmedFailure(
                method, chat_id, TelegramError(error_code, description, retry_after), times
            )
        )

    def hold_calls(self, method: str | None = None, *, token: str | None = None) -> asyncio.Event:
        """Leave every later call of ``method`` (None: any) unanswered until the returned
        event is set: a Telegram that does not answer."""
        release = asyncio.Event()
        self._holds.append((method.lower() if method else None, token or self.token, release))
        return release

    async def _held(self, token: str, method: str) -> None:
        for held_method, held_token, release in list(self._holds):
            if release.is_set():
                self._holds.remove((held_method, held_token, release))
            elif held_token == token and held_method in (None, method.lower()):
                await release.wait()

    def reset(self) -> None:
        """Forget every bot, chat, update, file and flood history; keep configuration."""
        self.world.reset()

    # ---- control over HTTP ----------------------------------------------------------------

    def control_routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/_control/reset", self._c_reset),
            ("POST", "/_control/flood", self._c_flood),
            ("POST", "/_control/{token}/chats", self._c_add_chat),
            ("GET", "/_control/{token}/chats/{chat_id}", self._c_chat),
            ("GET", "/_control/{token}/state", self._c_state),
            ("POST", "/_control/{token}/inject/{kind}", self._c_inject),
            ("POST", "/_control/{token}/fail", self._c_fail),
            ("GET", "/_control/{token}/calls", self._c_calls),
            ("GET", "/_control/{token}/files/{file_id}", self._c_file),
        ]

    def _tok(self, request: web.Request) -> str | None:
        token = request.match_info["token"]
        return None if token == "_" else token

    async def _c_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return json_response({"ok": True})

    async def _c_flood(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "methods" in body:
            body["methods"] = frozenset(str(m).lower() for m in body["methods"])
        config = self.configure_flood(**body)
        return json_response({"ok": True, "config": _flood_json(config)})

    async def _c_add_chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        token = self._tok(request)
        try:
            if body.get("type", "private") == "private":
                chat = self.add_private_chat(
                    int(body["chat_id"]),
                    first_name=body.get("first_name"),
                    username=body.get("username"),
                    topics=bool(body.get("is_forum", False)),
                    token=token,
                )
            else:
                chat = self.add_group(
                    int(body["chat_id"]),
                    title=body.get("title"),
                    forum=bool(body.get("is_forum", False)),
                    token=token,
                )
        except TelegramError as e:
            return json_response(e.to_json(), e.code)
        return json_response({"ok": True, "chat": chat.to_json()})

    async def _c_chat(self, request: web.Request) -> web.Response:
        try:
            chat = self.chat(int(request.match_info["chat_id"]), token=self._tok(request))
        except TelegramError as e:
            return json_response(e.to_json(), e.code)
        return json_response({"ok": True, "chat": chat_snapshot(chat)})

    async def _c_state(self, request: web.Request) -> web.Response:
        try:
            bot = self.bot(self._tok(request))
        except TelegramError as e:
            return json_response(e.to_json(), e.code)
        return json_response(
            {
                "ok": True,
                "bot": bot.user_json(),
                "chats": sorted(bot.chats),
                "pending_updates": list(bot.updates),
                "webhook": dataclasses.asdict(bot.webhook) if bot.webhook else None,
                "commands": bot.commands,
                "pre_checkout_queries": [
                    dataclasses.asdict(q) for q in bot.pre_checkout_queries.values()
                ],
                "payments": [dataclasses.asdict(p) for p in bot.payments.values()],
                "refunds": [dataclasses.asdict(p) for p in bot.refunds],
            }
        )

    async def _c_inject(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        kind = request.match_info["kind"]
        token = self._tok(request)
        try:
            result = self._inject_from_json(kind, body, token)
        except TelegramError as e:
            return json_response(e.to_json(), e.code)
        except (KeyError, TypeError, ValueError) as e:
            return json_response(
                {"ok": False, "error_code": 400, "description": f"bad control request: {e!r}"}, 400
            )
        key = "updates" if isinstance(result, list) else "update"
        return json_response({"ok": True, key: result})

    def _inject_from_json(self, kind: str, b: dict[str, Any], token: str | None) -> Any:
        def data() -> bytes:
            return base64.b64decode(b["data_b64"])

        common: dict[str, Any] = {"token": token}
        if "user_id" in b:
            common["user_id"] = b["user_id"]
        thread = {"thread_id": b["thread_id"]} if "thread_id" in b else {}
        if kind == "text":
            return self.send_text(
                b["chat_id"], b["text"], reply_to=b.get("reply_to"), **common, **thread
            )
        if kind == "command":
            return self.send_command(
                b["chat_id"], b["command"], b.get("args", ""), **common, **thread
            )
        if kind == "photo":
            return self.send_photo(
                b["chat_id"], data(), caption=b.get("caption"), **common, **thread
            )
        if kind == "document":
            return self.send_document(
                b["chat_id"],
                data(),
                file_name=b.get("file_name", "file.bin"),
                mime_type=b.get("mime_type", "application/octet-stream"),
                caption=b.get("caption"),
                **common,
                **thread,
            )
        if kind == "voice":
            return self.send_voice(
                b["chat_id"], data(), duration=int(b.get("duration", 1)), **common, **thread
            )
        if kind == "media_group":
            items = [
                MediaItem(
                    kind=i.get("kind", "photo"),
                    data=base64.b64decode(i["data_b64"]),
                    file_name=i.get("file_name"),
                    mime_type=i.get("mime_type"),
                    caption=i.get("caption"),
                )
                for i in b["items"]
            ]
            return self.send_media_group(b["chat_id"], items, **common, **thread)
        if kind == "edit":
            return self.edit_message(b["chat_id"], b["message_id"], b["text"], token=token)
        if kind == "topic":
            return self.create_topic(b["chat_id"], b["name"], **common)
        if kind == "pre_checkout_query":
            return self.pre_checkout_query(
                b["user_id"],
                b["total_amount"],
                b["payload"],
                currency=b.get("currency", "XTR"),
                token=token,
            )
        if kind == "successful_payment":
            return self.successful_payment(
                b["chat_id"],
                b["total_amount"],
                b["payload"],
                currency=b.get("currency", "XTR"),
                charge_id=b.get("charge_id"),
                **common,
            )
        if kind == "stop_generation":
            return self.stop_generation(b["chat_id"], b["draft_id"], token=token, **thread)
        if kind == "update":
            return self.inject_update(b["update"], token=token)
        raise ValueError(f"unknown inject kind {kind}")

    async def _c_fail(self, request: web.Request) -> web.Response:
        b = await request.json()
        self.fail_next(
            b.get("method"),
            error_code=int(b.get("error_code", 400)),
            description=b.get("description", "Bad Request: emulated failure"),
            retry_after=b.get("retry_after"),
            times=int(b.get("times", 1)),
            chat_id=b.get("chat_id"),
            token=self._tok(request),
        )
        return json_response({"ok": True})

    async def _c_calls(self, request: web.Request) -> web.Response:
        calls = self.calls(request.query.get("method"), token=self._tok(request))
        return json_response({"ok": True, "calls": [dataclasses.asdict(c) for c in calls]})

    async def _c_file(self, request: web.Request) -> web.Response:
        try:
            data = self.file_bytes(request.match_info["file_id"])
        except KeyError:
            return json_response(
                {"ok": False, "error_code": 404, "description": "file not found"}, 404
            )
        return web.Response(body=data, content_type="application/octet-stream")


def chat_snapshot(chat: ChatState) -> dict[str, Any]:
    """A JSON view of what a chat shows: messages, drafts, topics, invoices, actions."""
    return {
        "chat": chat.to_json(),
        "messages": [
            {
                "message_id": m.message_id,
                "from_bot": m.from_bot,
                "kind": m.kind,
                "thread_id": m.thread_id,
                "text": m.text,
                "raw_text": m.raw_text,
                "parse_mode": m.parse_mode,
                "entities": m.entities,
                "file_ids": m.file_ids,
                "media_group_id": m.media_group_id,
                "edits": m.edits,
                "json": m.json,
            }
            for m in chat.visible()
        ],
        "drafts": [dataclasses.asdict(d) for d in chat.drafts.values()],
        "topics": [dataclasses.asdict(t) for t in chat.topics.values()],
        "invoices": [dataclasses.asdict(i) for i in chat.invoices],
        "actions": [dataclasses.asdict(a) for a in chat.actions],
    }


def _flood_json(config: FloodConfig) -> dict[str, Any]:
    out = dataclasses.asdict(config)
    out["methods"] = sorted(config.methods)
    return out


async def _read_params(request: web.Request) -> Params:
    params = Params(values=dict(request.query))
    if request.method != "POST" or not request.body_exists:
        return params
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise TelegramError(400, "Bad Request: can't parse JSON request body") from None
        if isinstance(body, dict):
            params.values.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params.uploads[key] = Upload(value.filename, value.file.read(), value.content_type)
        else:
            params.values[key] = value
    return params
