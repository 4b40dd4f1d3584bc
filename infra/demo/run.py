"""``botctl demo``: the whole bot offline, against the Telegram and Claude emulators, with a
terminal chat in which you are a Telegram user.

The emulators run in this process; every service runs as its own child process (as in
production) with ``TELEGRAM_API_URL``/``ANTHROPIC_BASE_URL`` pointing at them and its logs in
``<state dir>/demo-logs/<service>.log``. Lines you type are injected as your messages
through the emulator; the bot's drafts are printed as they grow, then its final messages
with their inline keyboards (numbered: ``/press N`` or ``/press TEXT`` presses one, as a
callback query) and invoices (``/paynow`` pays the latest: a pre-checkout query, then, if
the bot accepts it, the successful payment).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import secrets
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, TextIO

from devkit.emulators.runner import RunningEmulators, start_emulators
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.telegram.state import ChatMessage
from events.catalog import all_topics
from infra.demo.chat_view import (
    Button,
    ChatView,
    SeenDraft,
    SeenMessage,
    invoice_of,
    keyboard_of,
    pick_button,
)
from infra.demo.children import Children
from infra.endpoints import Endpoints
from infra.kafka.topic_admin import ensure_topics
from infra.migrations import migrate
from infra.postgres import connect as pg_connect
from infra.settings import Settings

DEMO_SERVICES: Final = (
    "gateway",
    "users-worker",
    "thread-worker",
    "billing-worker",
    "payments",
    "projector",
)
DEMO_USER: Final = 424242
PHOTO_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp"})
PRE_CHECKOUT_TIMEOUT: Final = 10.0
"""Telegram's own limit for answering a pre-checkout query."""

BANNER: Final = """\
Offline demo: you are Telegram user {user} chatting with the bot (emulated Telegram and Claude).
Type a message and press Enter. Demo commands:
  /topic NAME   open (or switch to) the topic NAME; /topic alone goes back to the main chat
  /file PATH    send a file (images as photos)
  /press N      press button N (or /press TEXT) of the latest message with buttons
  /reply TEXT   answer the bot's latest message (e.g. the custom amount of /pay)
  /paynow       pay the latest invoice (pre-checkout query, then the payment)
  /quit         leave
Everything else, including /help /model /new /stop /personality /pay, goes to the bot.
Service logs: {logs}
"""


class DemoChat:
    """The terminal side: your lines in, the chat's new content out."""

    def __init__(self, telegram: TelegramEmulator, user_id: int, write: Callable[[str], None]):
        self.telegram = telegram
        self.user_id = user_id
        self.write = write
        self.topic: int | None = None
        self.view = ChatView()
        self.paid: set[int] = set()  # invoice message ids
        self._notices_seen = 0

    def refresh(self) -> None:
        chat = self.telegram.chat(self.user_id)
        for topic in chat.topics.values():
            known = self.view.topic_names.get(topic.thread_id)
            if known is not None and known != topic.name:
                self.write(f"(topic '{known}' is now named '{topic.name}')")
            self.view.topic_names[topic.thread_id] = topic.name
        messages = [
            SeenMessage(
                m.message_id,
                m.thread_id,
                m.text or "",
                m.from_bot,
                m.kind,
                buttons=keyboard_of(m.json) if m.from_bot else (),
                invoice=invoice_of(m.json) if m.kind == "invoice" else None,
            )
            for m in chat.visible()
        ]
        drafts = [
            SeenDraft(d.draft_id, d.thread_id, d.text, d.active) for d in chat.drafts.values()
        ]
        for line in self.view.update(messages, drafts):
            self.write(line)
        self._show_notices()

    def _show_notices(self) -> None:
        """The texts the bot answered button presses with (a toast or an alert)."""
        answers = self.telegram.calls("answerCallbackQuery")
        for call in answers[self._notices_seen :]:
            text = call.params.get("text")
            if text and call.error is None:
                kind = "alert" if call.params.get("show_alert") in (True, "true") else "notice"
                self.write(f"({kind}: {text})")
        self._notices_seen = len(answers)

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.refresh()
            await self.telegram.activity.wait(0.5)

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False when the user wants to leave."""
        text = line.rstrip("\n")
        if not text.strip():
            return True
        command, _, rest = text.strip().partition(" ")
        if command == "/quit":
            return False
        if command == "/topic":
            self._switch_topic(rest.strip())
        elif command == "/file":
            await self._send_file(rest.strip())
        elif command == "/press":
            self._press(rest)
        elif command == "/reply":
            self._reply(rest.strip())
        elif command == "/paynow":
            await self._pay_now()
        else:
            self.telegram.send_text(self.user_id, text, thread_id=self.topic)
        return True

    def _latest(self, wanted: Callable[[ChatMessage], bool]) -> ChatMessage | None:
        for message in reversed(self.telegram.chat(self.user_id).visible()):
            if message.from_bot and wanted(message):
                return message
        return None

    def _press(self, choice: str) -> None:
        """Press a button of the latest message with an inline keyboard: the callback query
        Telegram would send, with the message as it is now."""
        message = self._latest(lambda m: bool(keyboard_of(m.json)))
        if message is None:
            self.write("(no message with buttons yet)")
            return
        button = pick_button(keyboard_of(message.json), choice)
        if isinstance(button, str):
            self.write(f"({button})")
            return
        self._inject_press(message, button)

    def _inject_press(self, message: ChatMessage, button: Button) -> None:
        if button.callback_data is None:
            self.write(f"('{button.text}' opens {button.url or 'something the demo cannot'})")
            return
        self.write(f"(you pressed '{button.text}')")
        self.telegram.inject_update(
            {
                "callback_query": {
                    "id": str(secrets.randbits(63)),
                    "from": self.telegram.world.user_json(self.user_id),
                    "message": copy.deepcopy(message.json),
                    "chat_instance": str(message.chat_id),
                    "data": button.callback_data,
                }
            }
        )

    def _reply(self, text: str) -> None:
        message = self._latest(lambda m: m.kind == "text")
        if message is None or not text:
            self.write("(nothing to reply to)" if text else "(/reply TEXT)")
            return
        self.telegram.send_text(
            self.user_id, text, thread_id=message.thread_id, reply_to=message.message_id
        )

    async def _pay_now(self) -> None:
        """Pay the latest invoice as Telegram does: a pre-checkout query the bot must accept
        within 10 s, then the successful_payment message."""
        invoices = self.telegram.invoices(self.user_id)
        if not invoices:
            self.write("(no invoice yet: /pay first)")
            return
        invoice = invoices[-1]
        if invoice.message_id in self.paid:
            self.write("(the latest invoice is paid already: /pay for a new one)")
            return
        update = self.telegram.pre_checkout_query(
            self.user_id, invoice.total_amount, invoice.payload, currency=invoice.currency
        )
        query = self.telegram.bot().pre_checkout_queries[update["pre_checkout_query"]["id"]]
        self.write(f"(paying {invoice.total_amount} {invoice.currency} ...)")
        try:
            await self.telegram.wait_until(lambda: query.answered, PRE_CHECKOUT_TIMEOUT)
        except TimeoutError:
            self.write("(the bot did not answer the pre-checkout query in 10 s: not paid)")
            return
        if not query.ok:
            self.write(f"(the bot declined the payment: {query.error_message})")
            return
        self.telegram.successful_payment(
            self.user_id,
            invoice.total_amount,
            invoice.payload,
            currency=invoice.currency,
            user_id=self.user_id,
        )
        self.paid.add(invoice.message_id)
        self.write(f"(you paid {invoice.total_amount} {invoice.currency})")

    def _switch_topic(self, name: str) -> None:
        if not name:
            self.topic = None
            self.write("(main chat)")
            return
        for topic in self.telegram.chat(self.user_id).topics.values():
            if topic.name == name:
                self.topic = topic.thread_id
                self.write(f"(topic '{name}')")
                return
        update = self.telegram.create_topic(self.user_id, name, user_id=self.user_id)
        self.topic = update["message"]["message_thread_id"]
        self.write(f"(new topic '{name}')")

    async def _send_file(self, name: str) -> None:
        path = Path(name)
        try:
            path, data = await asyncio.to_thread(_read_file, name)
        except OSError as exc:
            self.write(f"(cannot read {path}: {exc.strerror})")
            return
        if path.suffix.lower() in PHOTO_SUFFIXES:
            self.telegram.send_photo(self.user_id, data, thread_id=self.topic)
        else:
            self.telegram.send_document(
                self.user_id, data, file_name=path.name, thread_id=self.topic
            )


def _read_file(name: str) -> tuple[Path, bytes]:
    path = Path(name).expanduser()
    return path, path.read_bytes()


async def stdin_lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines of ``stream`` (None at its end), read by a daemon thread so any file works."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="demo-stdin", daemon=True).start()
    return queue


async def run_demo(
    endpoints: Endpoints,
    settings: Settings,
    stop: asyncio.Event,
    *,
    services: Sequence[str] = DEMO_SERVICES,
    user_id: int = DEMO_USER,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    log_dir: Path | None = None,
    flood: bool = False,
) -> int:
    """Run the offline demo until ``/quit``, the end of input, ``stop``, or a service exits.

    Answers 0, or the exit code of a service that stopped on its own."""
    out = stdout or sys.stdout

    def write(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    log_dir = log_dir or settings.state_dir / "demo-logs"
    emulators: RunningEmulators = await start_emulators(flood=flood)
    children = Children()
    try:
        telegram = emulators.telegram
        telegram.add_private_chat(user_id, first_name="You", username="demo_user", topics=True)
        await ensure_topics(endpoints.kafka_bootstrap, all_topics())
        conn = await pg_connect(endpoints.database_url)
        try:
            await migrate(conn, "public")
        finally:
            await conn.close()
        env = {
            **os.environ,
            **emulators.env,
            "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
            "DATABASE_URL": endpoints.database_url,
            "REDIS_URL": endpoints.redis_url,
            "LOG_LEVEL": "WARNING",
        }
        for name in ("METRICS_PORT", "TELEGRAM_WEBHOOK_URL", "THREAD_TOPIC_PREFIX"):
            env.pop(name, None)
        await children.start(services, env, log_dir)
        write(BANNER.format(user=user_id, logs=log_dir))
        chat = DemoChat(telegram, user_id, write)
        lines = await stdin_lines(stdin or sys.stdin)
        done = asyncio.Event()
        watcher = asyncio.create_task(chat.watch(done))
        try:
            while not stop.is_set():
                getter = asyncio.ensure_future(lines.get())
                stopper = asyncio.ensure_future(stop.wait())
                finished, _ = await asyncio.wait(
                    {getter, stopper}, timeout=1.0, return_when=asyncio.FIRST_COMPLETED
                )
                stopper.cancel()
                if getter not in finished:
                    getter.cancel()
                    if exited := children.exited():
                        write(f"(a service stopped: {exited}; see {log_dir})")
                        return next(iter(exited.values())) or 1
                    continue
                line = getter.result()
                if line is None or not await chat.handle(line):
                    break
            await asyncio.sleep(0.5)  # let the last replies arrive on screen
            chat.refresh()
        finally:
            done.set()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return 0
    finally:
        await children.stop()
        await emulators.stop()
