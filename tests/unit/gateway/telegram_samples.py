"""Telegram updates as Telegram sends them (JSON), for the gateway's tests."""

from __future__ import annotations

from typing import Any

from aiogram.types import Update

USER = {
    "id": 5551234,
    "is_bot": False,
    "first_name": "Ada",
    "last_name": "Lovelace",
    "username": "ada",
    "language_code": "en",
}
PRIVATE = {"id": 5551234, "type": "private", "first_name": "Ada", "username": "ada"}
FORUM = {"id": -1001234, "type": "supergroup", "title": "Lab", "is_forum": True}
DATE = 1767225600  # 2026-01-01T00:00:00Z


def message(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "message_id": 10,
        "date": DATE,
        "chat": PRIVATE,
        "from": USER,
    }
    base.update(fields)
    return base


def update(update_id: int = 1, kind: str = "message", **fields: Any) -> Update:
    """A real aiogram Update parsed from Telegram's JSON."""
    return Update.model_validate({"update_id": update_id, kind: message(**fields)})


def photo_sizes(file_id: str = "AgACphoto", big_size: int = 120_000) -> list[dict[str, Any]]:
    return [
        {
            "file_id": file_id + "_s",
            "file_unique_id": "u_s",
            "width": 90,
            "height": 60,
            "file_size": 1500,
        },
        {
            "file_id": file_id + "_m",
            "file_unique_id": "u_m",
            "width": 320,
            "height": 213,
            "file_size": 20_000,
        },
        {
            "file_id": file_id,
            "file_unique_id": "u_l",
            "width": 1280,
            "height": 853,
            "file_size": big_size,
        },
    ]
