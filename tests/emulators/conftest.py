"""The emulator fixtures, from the reusable plugin module infra.emulators.testing."""

from infra.emulators.testing import (
    _anthropic_session,
    _telegram_bot_session,
    anthropic_client,
    claude_emulator,
    claude_emulator_server,
    telegram_bot,
    telegram_emulator,
    telegram_emulator_server,
)

__all__ = [
    "_anthropic_session",
    "_telegram_bot_session",
    "anthropic_client",
    "claude_emulator",
    "claude_emulator_server",
    "telegram_bot",
    "telegram_emulator",
    "telegram_emulator_server",
]
