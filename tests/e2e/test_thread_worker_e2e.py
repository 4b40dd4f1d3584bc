"""The thread worker process end to end: inbox commands in, Telegram messages and events out."""

from __future__ import annotations

import asyncio
import base64

import pytest
import pytest_asyncio
from aiokafka.partitioner import murmur2
from thread_e2e import (
    WorkerProcess,
    charges_of,
    events_of,
    eventually,
    fund,
    send,
    stop,
    wait_ready,
)

from devkit.emulators.claude import (
    ClaudeEmulator,
    Overloaded,
    PromptTooLong,
    RateLimited,
    StreamBreak,
    text_reply,
)
from devkit.emulators.telegram import TelegramEmulator
from events.keys import thread_key
from events.messages import Attachment
from events.thread import (
    AssistantMessageCompleted,
    TurnCancelled,
    TurnCompleted,
    TurnFailed,
    UserMessageRejected,
)
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

pytestmark = pytest.mark.slow

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest_asyncio.fixture(loop_scope="session")
async def worker(
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> WorkerProcess:
    """The shared worker, ready (each test starts from clean emulators)."""
    await wait_ready(thread_worker, publisher, telegram_emulator, 900001)
    claude_emulator.reset()
    return thread_worker


async def new_chat(publisher: EventPublisher, telegram: TelegramEmulator, chat_id: int) -> int:
    telegram.add_private_chat(chat_id)
    await fund(publisher, chat_id)
    return chat_id


def texts(telegram: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.text or "" for m in telegram.bot_messages(chat_id)]


async def test_streamed_reply(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """A message is answered with drafts, then a final message, and its usage is charged."""
    cid = await new_chat(publisher, telegram_emulator, 810001)
    answer = "Streaming *answer* " + "with many words " * 30
    claude_emulator.script(text_reply(answer, chunk_delay=0.05, chunk_size=16, contains="stream"))
    await send(publisher, cid, "stream please", message_id=10)
    await eventually(lambda: texts(telegram_emulator, cid), 20)
    assert texts(telegram_emulator, cid)[0].startswith("Streaming answer")
    draft = next(iter(telegram_emulator.drafts(cid).values()))
    assert len(draft.history) >= 2
    key = thread_key(cid)
    events = await eventually(
        lambda: _with(events_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key),
                      TurnCompleted), 20)  # fmt: skip
    completed = [e for e in events if isinstance(e, AssistantMessageCompleted)]
    charges = await charges_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key)
    assert [c.operation_id for c in charges] == [f"usage:{completed[0].id}"]
    actions = telegram_emulator.chat_actions(cid)
    assert any(a.action == "typing" for a in actions)


async def _with(coro: object, kind: type) -> list[object] | None:
    found = await coro  # type: ignore[misc]
    return found if any(isinstance(e, kind) for e in found) else None


def _album_attachment(update: dict[str, object]) -> tuple[Attachment, int, str]:
    message = update["message"]
    assert isinstance(message, dict)
    photo = message["photo"][-1]
    attachment = Attachment(
        kind="photo",
        file_id=photo["file_id"],
        file_unique_id=photo["file_unique_id"],
        file_size=photo.get("file_size"),
        width=photo.get("width"),
        height=photo.get("height"),
    )
    return attachment, message["message_id"], message["media_group_id"]


async def test_media_group_is_one_turn(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> None:
    """Three photos of one album make one model request with three images, one answer."""
    from devkit.emulators.telegram import MediaItem

    cid = await new_chat(publisher, telegram_emulator, 810002)
    updates = telegram_emulator.send_media_group(
        cid, [MediaItem(kind="photo", data=PNG, caption="what is this?" if i == 0 else None)
              for i in range(3)]
    )  # fmt: skip
    for index, update in enumerate(updates):
        attachment, message_id, group = _album_attachment(update)
        await send(publisher, cid, "what is this?" if index == 0 else "", message_id=message_id,
                   attachments=(attachment,), media_group_id=group)  # fmt: skip
    await eventually(lambda: texts(telegram_emulator, cid), 20)
    requests = claude_emulator.message_requests()
    assert len(requests) == 1
    blocks = [b for m in requests[0].body["messages"] for b in m["content"]]
    assert sum(b["type"] == "image" for b in blocks) == 3
    assert len(texts(telegram_emulator, cid)) == 1


async def test_stop_mid_stream(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """/stop while streaming: stops within 1 s, the partial answer stays, partial usage."""
    cid = await new_chat(publisher, telegram_emulator, 810003)
    claude_emulator.script(text_reply("token " * 500, chunk_delay=0.05, chunk_size=6))
    await send(publisher, cid, "go on and on", message_id=10)
    await eventually(lambda: any(d.history for d in telegram_emulator.drafts(cid).values()), 20)
    loop = asyncio.get_running_loop()
    sent_at = loop.time()
    await stop(publisher, cid)
    await eventually(lambda: texts(telegram_emulator, cid), 10, interval=0.01)
    assert loop.time() - sent_at < 1.0
    assert "token" in texts(telegram_emulator, cid)[0]
    assert "stopped" in texts(telegram_emulator, cid)[0]
    key = thread_key(cid)
    events = await eventually(
        lambda: _with(events_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key),
                      TurnCancelled), 10)  # fmt: skip
    cancelled = [e for e in events if isinstance(e, TurnCancelled)]
    assert cancelled[0].reason == "stop_command"
    assert cancelled[0].partial_usage.output_tokens > 0
    charges = await charges_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key)
    assert [(c.source, c.operation_id) for c in charges] == [
        ("cancelled_call", f"usage:{cancelled[0].id}")
    ]


async def test_new_message_cancels_previous_turn(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """A new message in the thread cancels the running turn and is answered itself."""
    cid = await new_chat(publisher, telegram_emulator, 810004)
    claude_emulator.script(text_reply("slow " * 500, chunk_delay=0.05, chunk_size=5,
                                      contains="first"))  # fmt: skip
    await send(publisher, cid, "first", message_id=10)
    await claude_emulator.wait_for_requests(1, timeout=20)
    await send(publisher, cid, "second", message_id=11)
    # the echo model answers the new input (with "first" too if nothing was shown of it)
    await eventually(lambda: any(t.endswith("second") for t in texts(telegram_emulator, cid)), 20)
    key = thread_key(cid)
    events = await eventually(
        lambda: _with(events_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key),
                      TurnCompleted), 10)  # fmt: skip
    assert [e.reason for e in events if isinstance(e, TurnCancelled)] == ["superseded"]
    assert sum(isinstance(e, TurnCompleted) for e in events) == 1


async def test_flood_control_backoff(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> None:
    """A 429 on the final message is waited out (retry_after) and the message arrives."""
    cid = await new_chat(publisher, telegram_emulator, 810005)
    telegram_emulator.fail_next("sendMessage", error_code=429, retry_after=2, chat_id=cid)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await send(publisher, cid, "flood me", message_id=10)
    await eventually(lambda: texts(telegram_emulator, cid), 20)
    calls = [
        c
        for c in telegram_emulator.calls("sendMessage")
        if c.params.get("chat_id") in (cid, str(cid))
    ]
    assert calls[0].error is not None
    assert "Too Many Requests" in calls[0].error
    assert calls[-1].error is None
    assert calls[-1].at - calls[0].at >= 2.0
    assert loop.time() - started >= 2.0


async def test_markdown_is_sent_as_text_with_entities(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> None:
    """The answer's Markdown arrives as plain text with message entities and no parse mode:
    nothing escaped, and every entity inside the text as the emulator checks it."""
    cid = await new_chat(publisher, telegram_emulator, 810006)
    claude_emulator.script(
        text_reply("Some **bold** text, a_b_c and 2 * 3.\n\n```py\nx = 1\n```", contains="markdown")
    )
    await send(publisher, cid, "markdown please", message_id=10)
    await eventually(lambda: texts(telegram_emulator, cid), 20)
    message = telegram_emulator.bot_messages(cid)[0]
    assert message.parse_mode is None
    assert message.text == "Some bold text, a_b_c and 2 * 3.\n\nx = 1"
    assert message.entities == [
        {"type": "bold", "offset": 5, "length": 4},
        {"type": "pre", "offset": 34, "length": 5, "language": "py"},
    ]
    assert not [c for c in telegram_emulator.calls("sendMessage") if c.error]


async def test_long_answer_is_split_in_two(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> None:
    """A 5,000-character answer arrives as two messages within Telegram's limit."""
    cid = await new_chat(publisher, telegram_emulator, 810007)
    answer = ("A sentence of forty characters, roughly.\n" * 125)[:5000]
    claude_emulator.script(text_reply(answer, contains="long"))
    await send(publisher, cid, "long answer please", message_id=10)
    await eventually(lambda: len(texts(telegram_emulator, cid)) >= 2, 20)
    parts = texts(telegram_emulator, cid)
    assert len(parts) == 2
    assert all(len(p) <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "") == answer.replace("\n", "")


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (RateLimited(retry_after=3), "rate_limited"),
        (Overloaded(), "overloaded"),
        (PromptTooLong(), "context_overflow"),
        (StreamBreak(after_events=8), "stream_broken"),
        (None, "timeout"),
    ],
)
async def test_each_failure_class(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
    failure: object,
    error_class: str,
) -> None:
    """Each failure ends the turn with its error class, a clear message, usage only if
    something was consumed."""
    cid = await new_chat(publisher, telegram_emulator, 810100 + len(error_class))
    if failure is None:
        claude_emulator.script(text_reply("late", first_token_delay=8, contains="fail"))
    else:
        claude_emulator.script(text_reply("part " * 60, failure=failure, contains="fail"))  # type: ignore[arg-type]
    await send(publisher, cid, "fail now", message_id=10)
    key = thread_key(cid)
    events = await eventually(
        lambda: _with(events_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key),
                      TurnFailed), 30)  # fmt: skip
    failed = [e for e in events if isinstance(e, TurnFailed)]
    assert [f.error_class for f in failed] == [error_class]
    assert texts(telegram_emulator, cid)
    assert "⚠️" in texts(telegram_emulator, cid)[-1]
    charges = await charges_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key)
    if error_class in ("stream_broken", "timeout"):  # the response had started: input billed
        assert [c.source for c in charges] == ["failed_call"]
    else:
        assert charges == []


async def test_unsupported_input_and_empty_balance_get_clear_replies(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """A program file is refused with a reason; a user at $0 is told to /pay."""
    cid = await new_chat(publisher, telegram_emulator, 810008)
    program = Attachment(kind="document", file_id="x1", file_unique_id="x1u", file_name="setup.exe")
    await send(publisher, cid, "", message_id=10, attachments=(program,))
    await eventually(lambda: texts(telegram_emulator, cid), 20)
    assert "program files" in texts(telegram_emulator, cid)[0]
    broke = 810009
    telegram_emulator.add_private_chat(broke)
    await fund(publisher, broke, "0.00")
    await send(publisher, broke, "hello?", message_id=10)
    await eventually(lambda: texts(telegram_emulator, broke), 20)
    assert "/pay" in texts(telegram_emulator, broke)[0]
    assert claude_emulator.message_requests() == []
    events = await events_of(
        stack.kafka_bootstrap, broker_profile, worker.prefix, thread_key(broke)
    )
    assert [e.reason for e in events if isinstance(e, UserMessageRejected)] == [
        "insufficient_balance"
    ]


def _same_partition_keys(first_chat: int, partitions: int = 12) -> tuple[int, int]:
    def partition(chat: int) -> int:
        return (murmur2(thread_key(chat).encode()) & 0x7FFFFFFF) % partitions

    target = partition(first_chat)
    other = next(c for c in range(first_chat + 1, first_chat + 500) if partition(c) == target)
    return first_chat, other


async def test_slow_thread_does_not_delay_another_on_the_same_partition(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> None:
    """Two threads on one partition: while one streams slowly, the other is answered."""
    slow, fast = _same_partition_keys(820000)
    await new_chat(publisher, telegram_emulator, slow)
    await new_chat(publisher, telegram_emulator, fast)
    claude_emulator.script(text_reply("slow " * 200, chunk_delay=0.3, chunk_size=5,
                                      contains="slow"))  # fmt: skip
    await send(publisher, slow, "slow one", message_id=10)
    await claude_emulator.wait_for_requests(1, timeout=20)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await send(publisher, fast, "fast one", message_id=10)
    await eventually(lambda: texts(telegram_emulator, fast), 20, interval=0.01)
    assert loop.time() - started < 3.0
    assert texts(telegram_emulator, slow) == []
    await stop(publisher, slow)
    await eventually(lambda: texts(telegram_emulator, slow), 10)


async def test_new_topic_is_named(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """The first message of a forum topic gets a 3-6 word title via editForumTopic."""
    from events.thread import TopicNamed

    group = -100810010
    user = 810010
    telegram_emulator.add_group(group, forum=True)
    topic = telegram_emulator.create_topic(group, "New topic", user_id=user)
    thread_id = topic["message"]["message_thread_id"]
    await fund(publisher, user)
    claude_emulator.script(
        text_reply("Baking Sourdough Bread At Home", model="claude-haiku-4-5-20251001")
    )
    await send(publisher, group, "how do I bake sourdough bread?", message_id=50, user_id=user,
               thread_id=thread_id, chat_type="supergroup")  # fmt: skip
    await eventually(lambda: telegram_emulator.topics(group)[thread_id].name != "New topic", 20)
    assert telegram_emulator.topics(group)[thread_id].name == "Baking Sourdough Bread At Home"
    key = thread_key(group, thread_id)
    events = await eventually(
        lambda: _with(events_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key),
                      TopicNamed), 20)  # fmt: skip
    named = [e for e in events if isinstance(e, TopicNamed)]
    assert named[0].title == "Baking Sourdough Bread At Home"
    charges = await charges_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key)
    assert "topic_naming" in [c.source for c in charges]


async def test_a_call_reporting_a_dated_model_id_is_charged(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """The API reports a dated snapshot id: the event keeps it, the charge names the model
    asked for, and the billing worker debits it at that model's price (not $0, not refused)."""
    from actors.thread.models import SONNET
    from devkit.harness.topics import read_topic
    from events.billing import UsageDebited
    from events.catalog import ADMIN_EVENTS, BILLING_LEDGER, PAYMENTS_EVENTS
    from infra.billing.worker import BillingWorker
    from infra.kafka.topic_admin import ensure_topics

    await ensure_topics(stack.kafka_bootstrap, [PAYMENTS_EVENTS, ADMIN_EVENTS],
                        name_prefix=worker.prefix)  # fmt: skip
    cid = await new_chat(publisher, telegram_emulator, 810041)
    dated = f"{SONNET}-20260101"
    claude_emulator.script(text_reply("priced answer", reported_model=dated, contains="dated"))
    await send(publisher, cid, "dated model please", message_id=10)
    key = thread_key(cid)
    events = await eventually(
        lambda: _with(events_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key),
                      TurnCompleted), 20)  # fmt: skip
    [completed] = [e for e in events if isinstance(e, AssistantMessageCompleted)]
    assert completed.model == dated
    [charge] = await charges_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key)
    assert charge.model == SONNET
    billing = BillingWorker(stack.kafka_bootstrap, broker_profile, topic_prefix=worker.prefix)
    halt = asyncio.Event()
    task = asyncio.create_task(billing.run(halt))

    async def debit() -> UsageDebited | None:
        ledger = await read_topic(stack.kafka_bootstrap, broker_profile, BILLING_LEDGER,
                                  worker.prefix)  # fmt: skip
        found = [e for e in ledger if getattr(e, "operation_id", None) == charge.operation_id]
        return found[0] if found else None

    try:
        entry = await eventually(debit, 60, interval=0.5)
    finally:
        halt.set()
        await asyncio.wait_for(task, 30)
    assert isinstance(entry, UsageDebited)
    assert entry.amount < 0
    assert all(line.item.startswith(SONNET) for line in entry.lines)
