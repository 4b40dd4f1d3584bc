"""The provider tools end to end: Telegram updates through the gateway process, the thread
worker process (its built-in tools wired to the E2B and Gemini emulators, the file store in
PostgreSQL), the billing worker pricing every charge into the ledger. A CSV goes into
``execute_python``, the chart it draws comes back as a photo; an image is generated and
delivered; LaTeX is rendered (or, on a machine without TeX, the tool says so and the turn
goes on); every tool charge is in the ledger with its quantities."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from thread_e2e import Processes

from actors.billing.pricing import price
from actors.thread.file_store import content_address, file_id_for
from devkit.emulators.claude import ClaudeEmulator, Reply, ToolUseBlock, text_reply
from devkit.emulators.e2b_sandbox import E2BEmulator
from devkit.emulators.gemini import GeminiEmulator, image_dimensions, png_bytes
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.e2e import Scenario
from events.billing import StarterCreditRequested
from events.catalog import BILLING_COMMANDS
from events.envelope import new_envelope
from events.files import FileDelivered, FileGenerated, FileReceived
from events.keys import thread_key, user_key
from events.tools import ToolCallCompleted, ToolCallFailed
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.tools.latex import find_engine

pytestmark = pytest.mark.slow

CSV = b"month,sales\njan,3\nfeb,5\nmar,2\napr,7\n"
CHART_CODE = """\
import csv, struct, zlib
rows = list(csv.DictReader(open('sales.csv')))
values = [int(r['sales']) for r in rows]
width, height, bar = 40 * len(values), 160, 30
pixels = [[(255, 255, 255)] * width for _ in range(height)]
for i, v in enumerate(values):
    top = height - v * 20
    for y in range(top, height):
        for x in range(i * 40 + 5, i * 40 + 5 + bar):
            pixels[y][x] = (60, 120, 200)
raw = b''.join(b'\\x00' + bytes(c for p in row for c in p) for row in pixels)
def chunk(kind, data):
    crc = struct.pack('>I', zlib.crc32(kind + data))
    return struct.pack('>I', len(data)) + kind + data + crc
header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
png = (b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', header)
       + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))
open('chart.png', 'wb').write(png)
print('chart of', len(values), 'months')
"""


def chart_bytes() -> bytes:
    """The PNG the chart code draws (it is deterministic: the same bytes, so the same id)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "sales.csv").write_bytes(CSV)
        subprocess.run([sys.executable, "-c", CHART_CODE], cwd=tmp, check=True, capture_output=True)
        return (Path(tmp) / "chart.png").read_bytes()


async def _ready(
    procs: Processes,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    claude: ClaudeEmulator,
    chat_id: int,
) -> None:
    telegram.add_private_chat(chat_id)
    await publisher.publish(
        BILLING_COMMANDS,
        StarterCreditRequested(
            **new_envelope(key=user_key(chat_id), producer="test"),
            operation_id=f"starter:{chat_id}",
            user_id=chat_id,
        ),
    )
    telegram.send_text(chat_id, "ready?")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 240
    while not telegram.bot_messages(chat_id):
        if procs.worker.proc is not None and procs.worker.proc.poll() is not None:
            raise RuntimeError(f"worker exited:\n{procs.worker.log_tail()}")
        if loop.time() > deadline:
            raise TimeoutError(f"not ready:\n{procs.worker.log_tail()}")
        await asyncio.sleep(0.2)
    claude.reset()


@pytest.fixture
def scenario(
    provider_processes: Processes,
    telegram_emulator_server: TelegramEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
    e2e_prefix: str,
) -> Scenario:
    """The steps of a test against the module's processes (the worker's log in failures)."""
    return Scenario(
        telegram_emulator_server,
        stack.kafka_bootstrap,
        broker_profile,
        e2e_prefix,
        provider_processes.worker.log_tail,
    )


def _one(events: list[Any], kind: type, **match: Any) -> Any:
    found = [
        e
        for e in events
        if isinstance(e, kind) and all(getattr(e, k) == v for k, v in match.items())
    ]
    assert len(found) == 1, (kind.__name__, match, found)
    return found[0]


async def test_a_csv_into_execute_python_and_its_chart_delivered_as_a_photo(
    provider_processes: Processes,
    publisher: EventPublisher,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    e2b_emulator_server: E2BEmulator,
    scenario: Scenario,
) -> None:
    """The user's CSV is stored, uploaded into the thread's sandbox, the code's chart is a
    generated file (thread.file_generated) sent as a photo (thread.file_delivered) under the
    upload_photo action, and the sandbox seconds are charged in the ledger at the table's
    price."""
    telegram, claude = telegram_emulator_server, claude_emulator_server
    cid = 861101
    await _ready(provider_processes, publisher, telegram, claude, cid)
    key = thread_key(cid)
    csv_id = file_id_for(key, "user", content_address(CSV))
    chart_id = file_id_for(key, "tool", content_address(chart_bytes()))
    claude.script(
        Reply(
            content=[
                ToolUseBlock(
                    name="execute_python", input={"code": CHART_CODE, "file_ids": [csv_id]}
                )
            ]
        ),
        Reply(content=[ToolUseBlock(name="deliver_file", input={"file_id": chart_id})]),
        text_reply("Here is the chart of your sales."),
    )
    telegram.send_document(cid, CSV, file_name="sales.csv", mime_type="text/csv")
    events = await scenario.turns(cid, 2)
    assert _one(events, FileReceived, file_id=csv_id).stored_name == "sales.csv"
    ran = _one(events, ToolCallCompleted, tool_name="execute_python")
    assert "chart of 4 months" in ran.output
    assert list(ran.file_ids) == [chart_id]
    assert ran.quantities.sandbox_seconds >= 1
    made = _one(events, FileGenerated, file_id=chart_id)
    assert (made.tool_name, made.file_name, made.mime_type) == (
        "execute_python",
        "chart.png",
        "image/png",
    )
    sent = _one(events, FileDelivered, file_id=chart_id)
    assert sent.sent_as == "photo"
    photo = next(m for m in telegram.bot_messages(cid) if m.message_id == sent.telegram_message_id)
    assert photo.kind == "photo"
    assert telegram.file_bytes(photo.file_ids[0]) == chart_bytes()
    assert "upload_photo" in [a.action for a in telegram.chat_actions(cid)]
    assert "Here is the chart" in (telegram.bot_messages(cid)[-1].text or "")
    uploads = [c for c in e2b_emulator_server.calls if (c.method, c.path) == ("POST", "/files")]
    assert uploads
    assert uploads[-1].body["written"][0]["path"] == "/home/user/sales.csv"
    [debit] = await scenario.debits(1, thread=key, tools_only=True, timeout=120)
    expected = price(at=ran.occurred_at, tool_quantities=ran.quantities)
    assert debit.tool_name == "execute_python"
    assert debit.source_event_id == ran.id
    assert -debit.amount == ran.cost_usd == expected.total > 0
    assert [line.item for line in debit.lines] == ["e2b_sandbox"]
    assert debit.lines[0].quantity == ran.quantities.sandbox_seconds


async def test_an_image_generated_and_delivered(
    provider_processes: Processes,
    publisher: EventPublisher,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    gemini_emulator_server: GeminiEmulator,
    scenario: Scenario,
) -> None:
    """generate_image draws a 16:9 1K image with Gemini (shown to the model in the next
    request), it is delivered as a photo, and one 1k image is charged in the ledger."""
    telegram, claude = telegram_emulator_server, claude_emulator_server
    cid = 861201
    await _ready(provider_processes, publisher, telegram, claude, cid)
    key = thread_key(cid)
    image = png_bytes(*image_dimensions("16:9", "1K"))
    image_id = file_id_for(key, "tool", content_address(image))
    claude.script(
        Reply(
            content=[
                ToolUseBlock(
                    name="generate_image",
                    input={"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9"},
                )
            ]
        ),
        Reply(content=[ToolUseBlock(name="deliver_file", input={"file_id": image_id})]),
        text_reply("Your lighthouse."),
    )
    telegram.send_text(cid, "draw me a lighthouse")
    events = await scenario.turns(cid, 2)
    drawn = _one(events, ToolCallCompleted, tool_name="generate_image")
    assert [(i.size_class, i.count) for i in drawn.quantities.images] == [("1k", 1)]
    assert _one(events, FileGenerated, file_id=image_id).mime_type == "image/png"
    sent = _one(events, FileDelivered, file_id=image_id)
    photo = next(m for m in telegram.bot_messages(cid) if m.message_id == sent.telegram_message_id)
    assert photo.kind == "photo"
    request = gemini_emulator_server.generate_calls()[-1].body
    assert request["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"
    second = claude.message_requests()[1].body["messages"][-1]["content"]
    shown = [b for r in second if r["type"] == "tool_result" for b in r["content"]]
    assert any(b.get("type") == "image" for b in shown)
    [debit] = await scenario.debits(1, thread=key, tools_only=True, timeout=120)
    assert debit.tool_name == "generate_image"
    assert [(line.item, line.quantity) for line in debit.lines] == [
        (f"image/{drawn.quantities.images[0].model}/1k", Decimal(1))
    ]
    assert -debit.amount == drawn.cost_usd == Decimal("0.0672")


async def test_latex_rendered_or_the_clear_not_installed_answer(
    provider_processes: Processes,
    publisher: EventPublisher,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    scenario: Scenario,
) -> None:
    """With TeX installed (the Docker image; this machine if texlive-latex-base and dvipng
    are there) the formula becomes a PNG file of the thread, free; without it the call fails
    as unavailable, the model is told to write the formula as text, and the turn answers.
    Which path runs depends on the machine: the worker and this test look at the same PATH."""
    telegram, claude = telegram_emulator_server, claude_emulator_server
    cid = 861301
    await _ready(provider_processes, publisher, telegram, claude, cid)
    claude.script(
        Reply(content=[ToolUseBlock(name="render_latex", input={"latex": r"\int_0^1 x^2\,dx"})]),
        text_reply("Done."),
    )
    telegram.send_text(cid, "typeset the integral")
    events = await scenario.turns(cid, 2)
    result = claude.message_requests()[-1].body["messages"][-1]["content"][0]
    if find_engine(None) is not None and os.environ.get("PATH"):
        done = _one(events, ToolCallCompleted, tool_name="render_latex")
        made = _one(events, FileGenerated, tool_name="render_latex")
        assert made.mime_type == "image/png"
        assert list(done.file_ids) == [made.file_id]
        assert done.quantities.is_zero()  # free
        assert not result.get("is_error")
    else:
        failed = _one(events, ToolCallFailed, tool_name="render_latex")
        assert failed.error_class == "unavailable"
        assert "not available on this server" in failed.message
        assert result["is_error"] is True
    assert "Done." in (telegram.bot_messages(cid)[-1].text or "")
