"""OpenAI audio transcription (Whisper) emulator: `POST /v1/audio/transcriptions`.

Point the openai SDK at it with ``AsyncOpenAI(base_url=emulator.openai_base_url, api_key=...)``
(any non-empty key, or one of ``api_keys`` when given; a wrong one answers 401).

What it answers
- multipart ``file`` (required, at most 25 MB: a bigger one answers 413 as the real API does),
  ``model`` (whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe; another answers 400),
  ``response_format`` json (``{"text", "usage": {"type": "duration", "seconds"}}``), text,
  srt, vtt, verbose_json (language, duration, segments; whisper-1 only, as upstream),
  ``language`` (ISO-639-1, reported as its name in verbose_json), ``prompt``, ``temperature``.
- a file whose extension is not a supported audio format answers 400 invalid_request_error.
- errors use OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``.

Scripting (in process, or as JSON over ``POST /_control/transcripts``)
- ``emulator.transcribe_as("Hello there.", duration=12.5)``: the next request's transcript;
  ``Transcript(text=..., duration=..., language=..., segments=[Segment(...)],
  filename_contains="voice")`` for finer control. Unscripted requests get
  ``default_text(filename, data)``: "Emulated transcript of <name> (<n> bytes)."
- duration: the scripted one, else the last scripted segment's end, else parsed from a WAV
  (RIFF) or Ogg Opus/Vorbis header (`audio.wav_bytes(seconds)` writes a WAV), else 0.
- ``emulator.fail_next(RateLimited(retry_after=2))`` (429 + retry-after),
  ``ServerError()`` (500), ``HttpError(status=..., message=..., code=...)`` (anything).
  Over HTTP: ``{"transcripts": [{"failure": {"kind": "rate_limited", "retry_after": 2}}]}``.
- ``emulator.calls`` / ``GET /_control/requests``: each request's form fields, file name and
  size; ``POST /_control/reset`` forgets scripts and recordings.
"""

from .audio import SUPPORTED_FORMATS, audio_duration, wav_bytes
from .scripts import Failure, HttpError, RateLimited, Segment, ServerError, Transcript
from .server import MAX_FILE_BYTES, WhisperEmulator, default_text

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_FORMATS",
    "Failure",
    "HttpError",
    "RateLimited",
    "Segment",
    "ServerError",
    "Transcript",
    "WhisperEmulator",
    "audio_duration",
    "default_text",
    "wav_bytes",
]
