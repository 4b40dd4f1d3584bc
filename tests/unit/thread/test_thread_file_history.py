"""File records fold into the history, and later turns see files as Files API references,
transcripts or one line each, never a placeholder while the file is available."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from thread_builders import user_message

from actors.thread import file_events
from actors.thread.content import classify_attachment
from actors.thread.context import FileView, build_request
from actors.thread.decide import Facts, decide_messages
from actors.thread.evolve import evolve_all
from actors.thread.file_store import StoredFile
from actors.thread.models import SONNET
from actors.thread.progress import TurnTrace
from actors.thread.state import RunningTurn, ThreadState, initial_state
from actors.thread.token_budget import FilesTooLarge
from events.messages import Attachment

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FUNDED = Facts(balance=Decimal(5))


def _started(*attachments: Attachment, text: str = "") -> tuple[ThreadState, RunningTurn]:
    cmd = user_message(text, attachments=attachments)
    decision = decide_messages(initial_state(cmd.key), [cmd], FUNDED)
    state = evolve_all(initial_state(cmd.key), decision.events)
    assert state.running is not None
    return state, state.running


def _stored(kind: str, mime: str, name: str) -> StoredFile:
    return StoredFile(
        file_id="0b9c6a4e-6f0e-5a55-9c1e-000000000001",
        thread_key="1:0",
        owner_user_id=1,
        origin="user",
        sha256="ab" * 32,
        name=name,
        mime_type=mime,
        kind=kind,
        size_bytes=1234,
        created_at=NOW,
    )


PDF = Attachment(kind="document", file_id="tg-pdf", file_unique_id="u-pdf",
                 file_name="report.pdf", mime_type="application/pdf", file_size=1234)  # fmt: skip
VOICE = Attachment(kind="voice", file_id="tg-v", file_unique_id="u-v", duration_seconds=7)


def test_a_received_and_uploaded_pdf_is_a_file_reference_in_later_requests() -> None:
    """file_received + file_uploaded put our id and the Files API id on the history note;
    the request then carries a document block referencing it, until the upload expires."""
    state, running = _started(PDF, text="read this")
    stored = _stored("pdf", "application/pdf", "report.pdf")
    received = file_events.file_received(
        running, state.history[-1].files[0], 1, stored, converted_from=None, tokens=3200
    )
    uploaded = file_events.file_uploaded(
        running, stored.file_id, "file_abc", uploaded_at=NOW, expires_at=NOW + timedelta(hours=24)
    )
    state = evolve_all(state, [received, uploaded])
    note = state.history[-1].files[0]
    assert (note.stored_id, note.provider_file_id, note.tokens) == (
        stored.file_id,
        "file_abc",
        3200,
    )
    request = build_request(state, model=SONNET, personality=None, files=FileView(NOW, {}))
    [message] = request.kwargs["messages"]
    assert message["content"][0]["source"] == {"type": "file", "file_id": "file_abc"}
    assert message["content"][0]["type"] == "document"
    later = build_request(
        state, model=SONNET, personality=None, files=FileView(NOW + timedelta(days=2), {})
    )
    assert "file_abc" not in str(later.kwargs["messages"])


def test_deleted_bytes_are_reported_with_the_reason() -> None:
    """A file whose bytes retention deleted is one line saying so, not a reference."""
    state, running = _started(PDF)
    stored = _stored("pdf", "application/pdf", "report.pdf")
    received = file_events.file_received(
        running, state.history[-1].files[0], 1, stored, converted_from=None, tokens=None
    )
    state = evolve_all(state, [received])
    view = FileView(NOW, {stored.file_id: "its content was deleted under the retention policy"})
    request = build_request(state, model=SONNET, personality=None, files=view)
    text = str(request.kwargs["messages"])
    assert "retention policy" in text
    assert "report.pdf" in text


def test_a_transcribed_voice_message_is_its_transcript_and_charged_per_second() -> None:
    """The transcript is the message's content; its charge carries the seconds as quantity."""
    state, running = _started(VOICE)
    stored = _stored("voice", "audio/ogg", "voice.ogg")
    note = state.history[-1].files[0]
    received = file_events.file_received(running, note, 1, stored, converted_from=None, tokens=None)
    state = evolve_all(state, [received])
    transcribed = file_events.file_transcribed(
        running, state.history[-1].files[0], 1, model="whisper-1", text="buy milk",
        language="english", duration_seconds=Decimal("7.5"),
    )  # fmt: skip
    state = evolve_all(state, [transcribed])
    request = build_request(state, model=SONNET, personality=None, files=FileView(NOW, {}))
    assert "buy milk" in str(request.kwargs["messages"])
    charge = file_events.transcription_charge(transcribed)
    assert charge is not None
    assert charge.source == "transcription"
    assert charge.tool_quantities is not None
    assert charge.tool_quantities.whisper_seconds == Decimal("7.5")
    assert charge.operation_id == transcribed.billing_operation_id


def test_a_text_file_too_large_for_the_window_is_refused() -> None:
    """The file's measured tokens count against the window; beyond it, a clear refusal."""
    doc = Attachment(kind="document", file_id="t", file_unique_id="tu", file_name="big.txt",
                     mime_type="text/plain", file_size=900_000)  # fmt: skip
    state, running = _started(doc)
    stored = _stored("text", "text/plain", "big.txt")
    received = file_events.file_received(
        running, state.history[-1].files[0], 1, stored, converted_from=None, tokens=400_000
    )
    state = evolve_all(state, [received])
    with pytest.raises(FilesTooLarge, match="context window"):
        build_request(state, model=SONNET, personality=None, files=FileView(NOW, {}))


@pytest.mark.parametrize(
    ("attachment", "kind"),
    [
        (
            Attachment(
                kind="document",
                file_id="h",
                file_unique_id="h",
                file_name="IMG.HEIC",
                mime_type="image/heic",
            ),
            "image",
        ),
        (Attachment(kind="document", file_id="b", file_unique_id="b", file_name="a.bmp"), "image"),
        (Attachment(kind="video_note", file_id="n", file_unique_id="n"), "voice"),
        (Attachment(kind="audio", file_id="a", file_unique_id="a"), "audio"),
        (Attachment(kind="video", file_id="v", file_unique_id="v"), "video"),
        (
            Attachment(
                kind="document",
                file_id="x",
                file_unique_id="x",
                file_name="data.xlsx",
                mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            "document",
        ),
        (
            Attachment(
                kind="document",
                file_id="z",
                file_unique_id="z",
                file_name="src.zip",
                mime_type="application/zip",
            ),
            "document",
        ),
    ],
)
def test_every_input_kind_is_accepted(attachment: Attachment, kind: str) -> None:
    """HEIC/BMP images, video notes, audio, video, office files and archives are inputs."""
    verdict = classify_attachment(attachment)
    assert getattr(verdict, "kind", None) == kind


def test_the_transcript_is_shown_in_the_draft_and_named_in_the_trace() -> None:
    """What a voice message said heads the draft (before any answer) and the final
    message's trace line says it was transcribed."""
    trace = TurnTrace()
    trace.add_transcript("buy milk and bread", 7.4)
    assert "Heard (0:07): “buy milk and bread”" in trace.draft_header().text
    assert trace.summary().startswith("🎤 transcribed")
