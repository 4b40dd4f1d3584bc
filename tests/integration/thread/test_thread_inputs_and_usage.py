"""Issue 10 lows on the real broker and emulators: a text file that cannot fit the context
window is refused before any call; /stop charges CJK output by its real weight."""

from __future__ import annotations

from devkit.emulators.claude import text_reply
from devkit.harness.thread import (
    Harness,
    billing_commands,
    eventually,
    message_command,
    stop_command,
    thread_events,
)
from events.messages import Attachment
from events.thread import TurnCancelled, TurnFailed
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile


def chat(h: Harness, chat_id: int) -> int:
    h.telegram.add_private_chat(chat_id)
    h.fund(chat_id)
    return chat_id


async def test_a_text_file_too_big_for_the_context_window_is_refused_before_any_call(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """A 700 KB text file (~230k tokens, under the 1 MB file limit) is counted against the
    200k window: the user reads why, no model request is made, nothing is charged."""
    h = harness
    cid = chat(h, 7101)
    requests_before = len(h.claude.message_requests())
    update = h.telegram.send_document(
        cid, b"lorem ipsum dolor sit amet " * 26_000, file_name="big.txt", mime_type="text/plain"
    )
    doc = update["message"]["document"]
    attachment = Attachment(
        kind="document",
        file_id=doc["file_id"],
        file_unique_id=doc["file_unique_id"],
        file_name="big.txt",
        mime_type="text/plain",
        file_size=doc.get("file_size"),
    )
    cmd = message_command(cid, "summarise this", message_id=1, attachments=(attachment,))
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked, 20)
    texts = [m.text or "" for m in h.telegram.bot_messages(cid)]
    assert any("context window" in t and "smaller file" in t for t in texts), texts
    assert len(h.claude.message_requests()) == requests_before
    events = [e for e in await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
              if getattr(e, "key", "") == f"{cid}:0"]  # fmt: skip
    [failed] = [e for e in events if isinstance(e, TurnFailed)]
    assert failed.error_class == "context_overflow"
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert not [c for c in charges if c.thread_key == f"{cid}:0"]


async def test_stop_charges_cjk_partial_output_at_least_a_token_a_character(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """/stop mid-stream of a Chinese answer: the partial output is charged at least one
    token per character shown (characters / 4 undercharged it 4x)."""
    h = harness
    cid = chat(h, 7102)
    h.claude.script(text_reply("你好世界" * 300, chunk_delay=0.05, chunk_size=4))
    cmd = message_command(cid, "answer in Chinese", message_id=1)
    h.submit(cmd)
    await eventually(lambda: any(d.history for d in h.telegram.drafts(cid).values()), 10)
    h.submit(stop_command(cid))
    await eventually(lambda: cmd.id in h.acked, 10)

    async def cancelled() -> TurnCancelled | None:
        found = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
        mine = [e for e in found if isinstance(e, TurnCancelled) and e.key == f"{cid}:0"]
        return mine[0] if mine else None

    event = await eventually(cancelled, 10)
    assert event.partial_text
    assert event.partial_usage.output_tokens >= len(event.partial_text)
