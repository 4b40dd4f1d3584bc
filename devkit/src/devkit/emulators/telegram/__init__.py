"""Telegram Bot API emulator (TELEGRAM_API_URL): server, state, and the pure rule modules."""

from .entities import Entity, EntityParseError, FormattedText
from .flood import FloodConfig, FloodLimiter
from .inject import MediaItem
from .markdown_v2 import escape_markdown_v2, parse_markdown_v2
from .server import TelegramEmulator
from .state import ChatMessage, ChatState, Draft, Invoice, Topic
from .world import DEFAULT_TOKEN

__all__ = [
    "DEFAULT_TOKEN",
    "ChatMessage",
    "ChatState",
    "Draft",
    "Entity",
    "EntityParseError",
    "FloodConfig",
    "FloodLimiter",
    "FormattedText",
    "Invoice",
    "MediaItem",
    "TelegramEmulator",
    "Topic",
    "escape_markdown_v2",
    "parse_markdown_v2",
]
