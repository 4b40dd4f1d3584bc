"""Speech to text with Whisper (the ``openai`` SDK; ``OPENAI_BASE_URL`` points it at an
emulator in tests). Used for voice messages and video notes before their turn; the duration
Whisper reports is what is charged (per second, at the price table's per-minute rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # the SDK is imported when a transcriber is built (OPENAI_API_KEY set)
    import openai

WHISPER_MODEL: Final = "whisper-1"
TRANSCRIBE_TIMEOUT: Final = 120.0


class TranscriptionFailed(Exception):
    """Whisper did not transcribe the audio (``str(exc)`` says why); ``kind`` is
    ``rate_limited`` (429), ``timeout``, ``invalid_input`` (another 4xx: a format or size
    Whisper refuses) or ``provider_error`` (5xx, unreachable)."""

    def __init__(self, message: str, kind: str = "provider_error") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str | None
    duration_seconds: Decimal
    model: str


class WhisperTranscriber:
    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str = WHISPER_MODEL,
        *,
        timeout: float = TRANSCRIBE_TIMEOUT,
        max_retries: int = 2,
    ) -> None:
        self._client = client.with_options(max_retries=max_retries, timeout=timeout)
        self.model = model

    async def transcribe(
        self,
        name: str,
        data: bytes,
        *,
        fallback_seconds: float | None = None,
        language: str | None = None,
    ) -> Transcript:
        """The transcript of ``data`` (``name``'s extension tells Whisper the format);
        ``fallback_seconds`` (Telegram's duration) when Whisper reports none; ``language``
        (ISO-639-1) when known."""
        import openai

        try:
            result = await self._client.audio.transcriptions.create(
                model=self.model,
                file=(name, data),
                response_format="verbose_json",
                language=language or openai.omit,
            )
        except openai.APIStatusError as exc:
            code = exc.status_code
            kind = (
                "rate_limited"
                if code == 429
                else "invalid_input"
                if 400 <= code < 500
                else "provider_error"
            )
            raise TranscriptionFailed(f"Whisper answered {code}: {exc.message}", kind) from exc
        except openai.APITimeoutError as exc:
            raise TranscriptionFailed(f"Whisper did not answer in time: {exc}", "timeout") from exc
        except openai.APIError as exc:
            raise TranscriptionFailed(f"Whisper could not be reached: {exc}") from exc
        seconds = float(getattr(result, "duration", 0) or 0) or float(fallback_seconds or 0)
        return Transcript(
            text=result.text.strip(),
            language=getattr(result, "language", None),
            duration_seconds=Decimal(str(round(seconds, 3))),
            model=self.model,
        )
