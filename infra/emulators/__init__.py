"""Local emulators of the Telegram Bot API and the Claude API, speaking the real wire formats.

- `infra.emulators.telegram.TelegramEmulator`: select with TELEGRAM_API_URL.
- `infra.emulators.claude.ClaudeEmulator`: select with ANTHROPIC_BASE_URL.
- `infra.emulators.runner.serve_emulators` / `python -m infra.emulators`: both at once.
- `infra.emulators.testing`: pytest fixtures (a plugin module).
"""

from infra.emulators.claude import ClaudeEmulator
from infra.emulators.runner import RunningEmulators, serve_emulators, start_emulators
from infra.emulators.telegram import TelegramEmulator

__all__ = [
    "ClaudeEmulator",
    "RunningEmulators",
    "TelegramEmulator",
    "serve_emulators",
    "start_emulators",
]
