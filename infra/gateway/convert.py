"""aiogram objects -> Telegram's JSON, the input of the pure logic in :mod:`actors.gateway`."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message

from actors.gateway.normalize import Normalized, normalize


def message_json(message: Message) -> dict[str, Any]:
    """The message as Telegram sends it (keys by alias, e.g. ``from``; unset fields left out)."""
    return message.model_dump(mode="json", by_alias=True, exclude_none=True)


def normalize_message(message: Message) -> Normalized:
    return normalize(message_json(message))
