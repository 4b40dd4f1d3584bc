"""Structured JSON logs with the ids of the user, thread and request being handled, and
with every secret redacted.

:class:`SecretRedactor` is a filter on the handler :func:`configure_logging` installs, so it
sees every record of every logger (ours, aiogram's, aiohttp's): the bot token (as written
and URL-quoted, and its secret half after the ``:``), API keys and passwords in service URLs
are replaced by ``[REDACTED]`` in the message, its arguments, the exception text (an aiohttp
error on a file download carries the URL ``/file/bot<token>/...``), the stack and the extra
fields, before any formatter renders them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final, TextIO
from urllib.parse import quote, urlsplit

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
        elif record.exc_text:
            item["exc"] = record.exc_text
        if record.stack_info:
            item["stack"] = record.stack_info
        return json.dumps(item, default=str)


REDACTED: Final = "[REDACTED]"
MIN_SECRET_CHARS: Final = 8
"""Shorter values are not redacted (they would mangle ordinary words)."""


def secret_variants(secret: str) -> set[str]:
    """The forms a secret takes in log text: as is, URL-quoted, the part after a ``:``
    (a bot token's secret half), a password inside a URL."""
    variants = {secret, quote(secret, safe="")}
    _, sep, tail = secret.partition(":")
    if sep and len(tail) >= MIN_SECRET_CHARS and "/" not in tail:
        variants.add(tail)
    if "://" in secret:
        password = urlsplit(secret).password
        if password:
            variants |= {password, quote(password, safe="")}
    return {v for v in variants if len(v) >= MIN_SECRET_CHARS}


class SecretRedactor(logging.Filter):
    """Replaces secrets in a record's message, arguments, exception, stack and fields."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        found = set(self._secrets)
        for secret in secrets:
            found |= secret_variants(secret)
        self._secrets = sorted(found, key=len, reverse=True)  # longest first

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def _redact_value(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.redact(value if isinstance(value, str) else str(value))

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts, redacted
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = self.redact(text.rstrip("\n"))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: self._redact_value(v) for k, v in fields.items()}
        return True


def log_handler(stream: TextIO, *, secrets: Iterable[str] = ()) -> logging.Handler:
    """A handler writing JSON lines to ``stream`` with ``secrets`` redacted."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SecretRedactor(secrets))
    return handler


def configure_logging(level: str = "INFO", *, secrets: Iterable[str] = ()) -> None:
    """JSON lines on stderr at ``level``, with ``secrets`` (e.g. the bot token, see
    :meth:`infra.settings.Settings.secret_values`) redacted from every record."""
    handler = log_handler(sys.stderr, secrets=secrets)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
