"""Local emulators of the Telegram Bot API, the Claude API and the provider APIs (OpenAI audio,
Gemini, E2B), speaking the real wire formats.

- `infra.emulators.telegram.TelegramEmulator`: select with TELEGRAM_API_URL.
- `infra.emulators.claude.ClaudeEmulator`: select with ANTHROPIC_BASE_URL.
- `infra.emulators.whisper.WhisperEmulator`: OpenAI audio transcriptions; OPENAI_BASE_URL.
- `infra.emulators.gemini.GeminiEmulator`: Gemini Developer API; GOOGLE_GEMINI_BASE_URL.
- `infra.emulators.e2b_sandbox.E2BEmulator`: E2B sandboxes (tests only: runs code locally);
  E2B_API_URL + E2B_SANDBOX_URL + E2B_HTTP_VERSION=1.1.
- `infra.emulators.runner.serve_emulators` / `python -m infra.emulators`: all at once.
- `infra.emulators.testing`: pytest fixtures (a plugin module).
"""

from infra.emulators.claude import ClaudeEmulator
from infra.emulators.e2b_sandbox import E2BEmulator
from infra.emulators.gemini import GeminiEmulator
from infra.emulators.runner import RunningEmulators, serve_emulators, start_emulators
from infra.emulators.telegram import TelegramEmulator
from infra.emulators.whisper import WhisperEmulator

__all__ = [
    "ClaudeEmulator",
    "E2BEmulator",
    "GeminiEmulator",
    "RunningEmulators",
    "TelegramEmulator",
    "WhisperEmulator",
    "serve_emulators",
    "start_emulators",
]
