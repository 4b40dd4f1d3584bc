"""``transcribe_audio``'s speech port on the Whisper adapter the file intake uses
(:mod:`infra.files.transcription`: one adapter for voice notes and the tool). Its failures
become :class:`ToolFailure` with their kind (``rate_limited``, ``timeout``,
``invalid_input``, ``provider_error``) and no quantities: a failed transcription is not
charged."""

from __future__ import annotations

from actors.thread.tools.failure import ToolFailure
from actors.thread.tools.providers import Transcription
from infra.files.transcription import TranscriptionFailed, WhisperTranscriber


class WhisperSpeech:
    """:class:`~actors.thread.tools.providers.SpeechPort` on :class:`WhisperTranscriber`."""

    def __init__(self, transcriber: WhisperTranscriber) -> None:
        self.transcriber = transcriber

    async def transcribe(
        self, data: bytes, file_name: str, *, language: str | None = None
    ) -> Transcription:
        try:
            result = await self.transcriber.transcribe(file_name, data, language=language)
        except TranscriptionFailed as exc:
            raise ToolFailure(exc.kind, str(exc)) from exc
        return Transcription(
            text=result.text, seconds=result.duration_seconds, language=result.language
        )
