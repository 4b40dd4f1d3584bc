"""Structured JSON logs with the ids of the user, thread and request being handled."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)
thread_key_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "thread_key", default=None
)
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        item: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (
            ("user_id", user_id_var),
            ("thread_key", thread_key_var),
            ("request_id", request_id_var),
        ):
            value = var.get()
            if value is not None:
                item[key] = value
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            item.update(extra)
        if record.exc_info:
            item["exc"] = self.formatException(record.exc_info)
        return json.dumps(item, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
