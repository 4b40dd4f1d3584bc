"""Parsers of single setting values: each reads one name from an environment mapping (never
the process environment itself: :func:`infra.settings.load_settings` passes it in) and raises
:class:`ConfigError` naming the setting when the value is malformed.

Secrets are wrapped in :class:`Secret`, whose repr never shows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from actors.thread.models import DEFAULT_MODEL, parse_model_name
from actors.typed_numbers import parse_user_id, shown

CRASH_POINTS: Final = ("billing-after-append", "users-after-billing", "projector-before-commit")
"""Where ``CLAUDEGRAM_TEST_CRASH`` may make a service exit abruptly (crash-recovery tests)."""


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and fits on one line."""


class Secret:
    """A secret string whose repr and str never reveal it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def read_value(env: Mapping[str, str], name: str) -> str | None:
    """The value of ``name``, or the content of the file named by ``name_FILE``."""
    value = env.get(name)
    if value:
        return value
    path = env.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise ConfigError(f"{name}_FILE={path}: cannot read it ({exc.strerror})") from None


def url(name: str, value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ConfigError(
            f"{name}: unsupported URL scheme {parts.scheme or '(none)'!r}; use {allowed}"
        )
    if not parts.hostname:
        raise ConfigError(f"{name}: URL has no host")
    return value


def database_url(value: str | None) -> str | None:
    """A libpq URL: ``postgresql://user:pw@host:port/db``, or with the host (a TCP host or a
    unix-socket folder) in the query instead: ``postgresql://user@/db?host=/run/postgresql``."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme in ("postgres", "postgresql") and not parts.hostname:
        hosts = [v for k, v in parse_qsl(parts.query) if k == "host" and v]
        if hosts:
            return value
    return url("DATABASE_URL", value, ("postgres", "postgresql"))


def kafka_servers(value: str | None) -> str | None:
    """``host:port[,host:port]``, optionally with a ``kafka://`` / ``PLAINTEXT://`` prefix."""
    if value is None:
        return None
    servers = []
    for raw in value.split(","):
        item = raw.strip()
        scheme, sep, rest = item.partition("://")
        if sep:
            if scheme.lower() not in ("kafka", "plaintext", "tcp"):
                raise ConfigError(
                    f"KAFKA_BOOTSTRAP_SERVERS: unsupported URL scheme {scheme!r}; use host:port"
                )
            item = rest
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"KAFKA_BOOTSTRAP_SERVERS: {raw.strip()!r} is not host:port")
        servers.append(item)
    return ",".join(servers)


def user_ids(value: str | None) -> frozenset[int]:
    if not value:
        return frozenset()
    ids = set()
    for raw in value.replace(";", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            ids.add(parse_user_id(item))
        except ValueError:
            raise ConfigError(
                f"PRIVILEGED_USER_IDS: {shown(item)} is not a numeric Telegram user id"
            ) from None
    return frozenset(ids)


def listen(value: str | None) -> tuple[str, int]:
    """``host:port`` the webhook server binds to (default ``0.0.0.0:8080``)."""
    if not value:
        return ("0.0.0.0", 8080)
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"TELEGRAM_WEBHOOK_LISTEN: {value!r} is not host:port")
    return (host or "0.0.0.0", int(port))


def seconds(env: Mapping[str, str], name: str, default: float, *, zero: bool = False) -> float:
    """A timeout in seconds: a positive number (or 0 if ``zero``), at most a day."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    number = float(raw) if len(raw) <= 12 and raw.replace(".", "", 1).isdigit() else -1.0
    if not (0 <= number <= 86400) or (number == 0 and not zero):
        raise ConfigError(f"{name}: {raw[:20]!r} is not a number of seconds between 0 and 86400")
    return number


WEBHOOK_SECRET_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{16,256}")
"""Telegram's ``secret_token`` alphabet (1-256 characters); we ask for at least 16."""


def webhook_secret(env: Mapping[str, str]) -> Secret | None:
    value = secret(env, "TELEGRAM_WEBHOOK_SECRET")
    if value is not None and WEBHOOK_SECRET_PATTERN.fullmatch(value.reveal()) is None:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET: use 16 to 256 characters of A-Z, a-z, 0-9, _ and -"
        )
    return value


def secret(env: Mapping[str, str], name: str) -> Secret | None:
    value = read_value(env, name)
    return Secret(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class CrashHook:
    """Test-only: exit the process abruptly at ``point``, after ``after`` passes there."""

    point: str
    after: int = 1


def crash_hook(value: str | None) -> CrashHook | None:
    """``POINT`` or ``POINT:N`` (``CLAUDEGRAM_TEST_CRASH``), ``POINT`` one of CRASH_POINTS."""
    if not value:
        return None
    point, _, count = value.strip().partition(":")
    if point not in CRASH_POINTS or (count and not (count.isdigit() and int(count) > 0)):
        raise ConfigError(
            f"CLAUDEGRAM_TEST_CRASH: {value[:40]!r} is not POINT[:N] with POINT one of "
            + ", ".join(CRASH_POINTS)
        )
    return CrashHook(point, int(count) if count else 1)


def whole_number(env: Mapping[str, str], name: str, default: int, *, low: int = 0) -> int:
    """A whole number of at least ``low`` (at most nine digits)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if len(raw) > 9 or not raw.isdigit() or int(raw) < low:
        raise ConfigError(f"{name}: {raw[:20]!r} is not a whole number of at least {low}")
    return int(raw)


def identifier(env: Mapping[str, str], key: str, default: str, pattern: str) -> str:
    raw = env.get(key, default).strip()
    if re.fullmatch(pattern, raw) is None:
        raise ConfigError(f"{key}: {raw[:40]!r} is not allowed here (allowed: {pattern})")
    return raw


def cache_dir(env: Mapping[str, str]) -> Path:
    """``CLAUDEGRAM_CACHE_DIR``, else ``$XDG_CACHE_HOME/claudegram``, else ``~/.cache/...``."""
    if env.get("CLAUDEGRAM_CACHE_DIR"):
        return Path(env["CLAUDEGRAM_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claudegram"


def file_store_url(value: str | None) -> Secret | None:
    """FILE_STORE_URL: a PostgreSQL URL, or unset; S3-style storage is refused by name."""
    if not value:
        return None
    scheme = value.split(":", 1)[0].lower()
    if scheme in ("s3", "gs", "minio") or scheme in ("http", "https"):
        raise ConfigError(
            "FILE_STORE_URL: S3-compatible file storage is not supported here; leave it unset "
            "to keep files in PostgreSQL (large objects), or give a postgresql:// URL"
        )
    checked = url("FILE_STORE_URL", value, ("postgres", "postgresql"))
    return Secret(checked) if checked else None


def days(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number of days") from None
    if value < 0 or value != value:
        raise ConfigError(f"{name}: {raw!r} must be 0 (keep forever) or more days")
    return value


def default_model(raw: str | None) -> str:
    if not raw or not raw.strip():
        return DEFAULT_MODEL
    model = parse_model_name(raw)
    if model is None:
        raise ConfigError(f"DEFAULT_MODEL: {raw.strip()!r} is not a model /model offers")
    return model
