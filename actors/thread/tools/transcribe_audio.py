"""``transcribe_audio``: speech to text (Whisper) for an audio file, a voice message, a
video note or the sound of a video of the thread.

Formats Whisper reads: flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm (a video in
mp4 or webm is sent as is: Whisper takes its sound); up to 25 MB. A long transcript is not
pasted into the context: the model gets its beginning, and the whole text is saved as a
generated text file of the thread (``deliver_file`` sends it, ``preview_file`` reads it).
Paid per second of audio (the price table's per-minute rate). A failed transcription
(rate limited, Whisper down, a timeout) is charged nothing. Failed, not re-run, after a
crash (the transcription may have been paid for).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from actors.texts import say
from actors.thread.state import FileNote
from actors.thread.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from actors.thread.tools.produced import ProducedFile, safe_name
from actors.thread.tools.thread_files import find_file, label, read_bytes
from events.usage import ToolQuantities

NAME: Final = "transcribe_audio"
MAX_AUDIO_BYTES: Final = 25 * 1024 * 1024
"""Whisper's upload limit."""
SHOWN_CHARS: Final = 6_000
FORMATS: Final = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
SUFFIX_BY_TYPE: Final = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/flac": "flac",
    "audio/webm": "webm",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/mpeg": "mpeg",
}
SUFFIX_BY_KIND: Final = {"voice": "ogg", "video_note": "mp4", "video": "mp4", "audio": "mp3"}
LANGUAGE: Final = re.compile(r"^[a-z]{2}$")

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "file_id": {"type": "string", "description": "An audio or video file id (list_files)."},
        "language": {
            "type": "string",
            "description": "ISO-639-1 code (en, ru...) if known; default: detected.",
        },
    },
    "required": ["file_id"],
}


def upload_name(note: FileNote) -> str:
    """A name whose extension Whisper accepts: the file's own, else one from its type or
    kind when it has none; a file whose extension Whisper does not read is refused."""
    name = safe_name(label(note), "audio")
    _, dot, suffix = name.rpartition(".")
    suffix = suffix.lower() if dot else ""
    if suffix in FORMATS:
        return name
    guessed = None
    if not suffix:
        mime = (note.stored_mime_type or note.mime_type or "").lower()
        guessed = SUFFIX_BY_TYPE.get(mime) or SUFFIX_BY_KIND.get(note.kind)
    if guessed is None:
        shown = f".{suffix}" if suffix else (note.mime_type or "this kind of file")
        raise ToolFailure(
            "invalid_input",
            f"{label(note)} cannot be transcribed: {shown} is not a format Whisper reads "
            f"({', '.join(FORMATS)})",
        )
    return f"{name}.{guessed}"


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    note = find_file(ctx, tool_input.get("file_id"))
    language = tool_input.get("language")
    if language is not None and (not isinstance(language, str) or not LANGUAGE.match(language)):
        raise ToolFailure("invalid_input", "language must be a two-letter ISO-639-1 code")
    name = upload_name(note)
    data = await read_bytes(ctx, note, MAX_AUDIO_BYTES)
    result = await ctx.providers.speech.transcribe(data, name, language=language)
    text = result.text.strip()
    report: dict[str, Any] = {
        "file": label(note),
        "seconds": float(result.seconds),
        "language": result.language,
    }
    new_files: tuple[ProducedFile, ...] = ()
    if len(text) > SHOWN_CHARS:
        report["transcript_start"] = text[:SHOWN_CHARS]
        report["note"] = (
            f"the transcript has {len(text)} characters; this is its start, the whole text "
            "is saved as a file"
        )
        stem = name.rpartition(".")[0] or "audio"
        new_files = (
            ProducedFile(f"{stem}_transcript.txt", "text/plain", text.encode(), text[:300]),
        )
    else:
        report["transcript"] = text
    return ToolResult(
        output=json.dumps(report, ensure_ascii=False),
        quantities=ToolQuantities(whisper_seconds=result.seconds),
        new_files=new_files,
    )


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Transcribe speech from an audio file, a voice message, a video note or a video of "
        "this chat (Whisper; mp3, m4a, ogg, wav, webm, mp4... up to 25 MB). Takes a file id "
        "from list_files. Paid per minute of audio (estimate_cost tells the price)."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    paid=True,
    on_interrupt="fail",
    timeout=300.0,
    status=lambda language, _input: say(language, "status.transcribe_audio"),
)
