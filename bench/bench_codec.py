"""Codec throughput: encode + decode of a typical turn's records, events per second per core.

Run: ``.venv/bin/python bench/bench_codec.py [--seconds 3]``. Single-threaded, so the figure
is per core. A "typical turn" is the five records one answered message produces: the inbox
command, turn started, one assistant message with usage, the billing charge command and its
ledger entry. Encode is the full ``Codec.encode`` (key, value, headers); decode is
``Codec.decode`` on the fast path. The upcast (slow) path is measured separately.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from actors.thread.models import SONNET
from events.billing import CostLine, UsageChargeRequested, UsageDebited
from events.catalog import BILLING_COMMANDS, BILLING_LEDGER, THREAD_EVENTS, THREAD_INBOX
from events.codec import codec_for
from events.envelope import caused_by, new_envelope
from events.ids import new_id
from events.legacy import TurnFailedV1
from events.messages import Attachment, ReplyTo, TelegramUser, UserMessage
from events.thread import AssistantMessageCompleted, TurnStarted, UserMessageReceived
from events.usage import Usage

THREAD = "-1001234567890:42"
USER = 5551234


def typical_turn() -> list[tuple[Any, Any]]:
    """(topic, record) pairs of one answered user message."""
    now = datetime.now(UTC)
    cmd = UserMessageReceived(
        **new_envelope(key=THREAD, producer="gateway"),
        message=UserMessage(
            chat_id=-1001234567890,
            chat_type="supergroup",
            message_thread_id=42,
            message_id=1017,
            sender=TelegramUser(user_id=USER, first_name="Ann", username="ann", language_code="en"),
            sent_at=now,
            text="Can you summarise the attached report and compare it with last quarter? " * 3,
            attachments=(
                Attachment(
                    kind="document",
                    file_id="BQACAgIAAxkBAAIBQ2Z" + "x" * 40,
                    file_unique_id="AgADBQAC",
                    mime_type="application/pdf",
                    file_name="q2-report.pdf",
                    file_size=482_113,
                ),
            ),
            reply_to=ReplyTo(message_id=1001, from_bot=True, quote="last quarter"),
        ),
        update_id=884_221_001,
    )
    turn_id = new_id()
    started = TurnStarted(
        **caused_by(cmd, producer="thread-actor", label="turn_started"),
        turn_id=turn_id,
        user_id=USER,
        model=SONNET,
        input_message_ids=(1017,),
        personality="You are a concise analyst.",
        thinking_budget_tokens=4096,
        max_output_tokens=16_000,
    )
    usage = Usage(
        input_tokens=1843,
        output_tokens=912,
        cache_creation_5m_input_tokens=12_044,
        cache_read_input_tokens=48_200,
        thinking_tokens=311,
    )
    completed = AssistantMessageCompleted(
        **caused_by(started, producer="thread-actor", label="step-1"),
        turn_id=turn_id,
        step=1,
        user_id=USER,
        model=SONNET,
        api_message_id="msg_01XFDUDYJgAACzvnptvVoYEL",
        text="Here is the summary of the Q2 report compared with Q1. " * 20,
        stop_reason="end_turn",
        usage=usage,
        telegram_message_ids=(1018,),
        billing_operation_id="usage:0193",
    )
    charge = UsageChargeRequested(
        **caused_by(completed, producer="thread-actor", key=str(USER), label="charge"),
        operation_id=f"usage:{completed.id}",
        user_id=USER,
        source="model_call",
        source_event_id=completed.id,
        thread_key=THREAD,
        turn_id=turn_id,
        model=SONNET,
        usage=usage,
    )
    lines = tuple(
        CostLine(
            item=item,
            quantity=Decimal(q),
            unit="per_million_tokens",
            unit_price=Decimal(p),
            amount=Decimal(q) * Decimal(p) / 1_000_000,
        )
        for item, q, p in (
            ("input_tokens", 1843, "3"),
            ("output_tokens", 912, "15"),
            ("cache_creation_5m_input_tokens", 12044, "3.75"),
            ("cache_read_input_tokens", 48200, "0.30"),
        )
    )
    debit = UsageDebited(
        **caused_by(charge, producer="billing", label="ledger"),
        operation_id=charge.operation_id,
        user_id=USER,
        amount=-sum((line.amount for line in lines), Decimal(0)),
        balance_after=Decimal("0.8123455"),
        command_id=charge.id,
        command_digest="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        price_version="2026-05-01",
        source="model_call",
        source_event_id=completed.id,
        thread_key=THREAD,
        turn_id=turn_id,
        model=SONNET,
        usage=usage,
        lines=lines,
    )
    return [
        (THREAD_INBOX, cmd),
        (THREAD_EVENTS, started),
        (THREAD_EVENTS, completed),
        (BILLING_COMMANDS, charge),
        (BILLING_LEDGER, debit),
    ]


def rate(fn: Callable[[], int], seconds: float, repeats: int = 7) -> tuple[float, float]:
    """(best, median) records per second of ``fn`` over ``repeats`` windows.

    The best window is the figure least disturbed by other processes (like ``timeit``'s
    minimum); the median shows how noisy the machine was.
    """
    fn()  # warm up
    rates = []
    for _ in range(repeats):
        done, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / repeats:
            done += fn()
        rates.append(done / elapsed)
    rates.sort()
    return rates[-1], rates[len(rates) // 2]


def show(label: str, figures: tuple[float, float]) -> None:
    best, median = figures
    print(f"{label:<32} best {best:>10,.0f} events/s   median {median:>10,.0f} events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per figure")
    args = parser.parse_args()
    records = [(codec_for(t), r) for t, r in typical_turn()]
    encoded = [(c, c.encode(r)) for c, r in records]
    sizes = [len(v) for _, (_, v, _) in encoded]
    loops = 200

    def round_trip() -> int:
        for _ in range(loops):
            for codec, record in records:
                _, value, headers = codec.encode(record)
                codec.decode(value, headers)
        return loops * len(records)

    def encode_only() -> int:
        for _ in range(loops):
            for codec, record in records:
                codec.encode(record)
        return loops * len(records)

    def decode_only() -> int:
        for _ in range(loops):
            for codec, (_, value, headers) in encoded:
                codec.decode(value, headers)
        return loops * len(records)

    old = msgspec.json.encode(
        TurnFailedV1(
            **new_envelope(key=THREAD, producer="x"),
            turn_id=new_id(),
            user_id=1,
            error="overloaded_error: x",
        )
    )
    events_codec = codec_for(THREAD_EVENTS)

    def upcast() -> int:
        for _ in range(loops):
            events_codec.decode(old)
        return loops

    print(f"python {platform.python_version()}, msgspec {msgspec.__version__}")
    print(f"value sizes (bytes): {sizes}, mean {sum(sizes) / len(sizes):.0f}")
    show("round trip (encode + decode)", rate(round_trip, args.seconds))
    show("encode only", rate(encode_only, args.seconds))
    show("decode only (fast path)", rate(decode_only, args.seconds))
    show("decode v1 -> v2 (upcast path)", rate(upcast, args.seconds))


if __name__ == "__main__":
    main()
