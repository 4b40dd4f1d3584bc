"""Local emulators of the Telegram Bot API, the Claude API and the provider APIs (OpenAI audio,
Gemini, E2B), speaking the real wire formats.

- `devkit.emulators.telegram.TelegramEmulator`: select with TELEGRAM_API_URL.
- `devkit.emulators.claude.ClaudeEmulator`: select with ANTHROPIC_BASE_URL.
- `devkit.emulators.whisper.WhisperEmulator`: OpenAI audio transcriptions; OPENAI_BASE_URL.
- `devkit.emulators.gemini.GeminiEmulator`: Gemini Developer API; GOOGLE_GEMINI_BASE_URL.
- `devkit.emulators.e2b_sandbox.E2BEmulator`: E2B sandboxes (tests only: runs code locally);
  E2B_API_URL + E2B_SANDBOX_URL + E2B_HTTP_VERSION=1.1.
- `devkit.emulators.runner.serve_emulators` / `python -m devkit.emulators`: all at once.
- `devkit.emulators.testing`: pytest fixtures (a plugin module).
"""

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.e2b_sandbox import E2BEmulator
from devkit.emulators.gemini import GeminiEmulator
from devkit.emulators.runner import RunningEmulators, serve_emulators, start_emulators
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.whisper import WhisperEmulator

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
