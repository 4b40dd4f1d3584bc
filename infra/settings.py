"""Typed settings read from the environment, with secrets also readable from ``NAME_FILE``.

One object, built once by the composition root. A missing or malformed setting raises
:class:`ConfigError` naming it, so the CLI can print one clear line instead of a traceback
from deep inside a client. Secrets are wrapped in :class:`Secret`, whose repr never shows them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from actors.thread.models import DEFAULT_MODEL, parse_model_name
from actors.typed_numbers import parse_user_id, shown

DEFAULT_TELEGRAM_API_URL: Final = "https://api.telegram.org"
DEFAULT_ANTHROPIC_BASE_URL: Final = "https://api.anthropic.com"
DEFAULT_MAVEN_REPO_URL: Final = "https://repo.maven.apache.org/maven2"

SECRET_NAMES: Final = (
    "TELEGRAM_BOT_TOKEN",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GOOGLE_API_KEY",
    "E2B_API_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "PRIVILEGED_USER_IDS",
)


# Every environment variable the settings read; each secret also as NAME_FILE.
ENV_NAMES: Final = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "TELEGRAM_WEBHOOK_LISTEN",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "GOOGLE_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "E2B_API_KEY",
    "KAFKA_BOOTSTRAP_SERVERS",
    "DATABASE_URL",
    "REDIS_URL",
    "PRIVILEGED_USER_IDS",
    "BROKER_COMPAT",
    "BOTCTL_STATE_DIR",
    "EMBEDDED_BROKER",
    "MAVEN_REPO_URL",
    "CLAUDEGRAM_CACHE_DIR",
    "LOG_LEVEL",
    "DEFAULT_MODEL",
    "METRICS_PORT",
    "DB_COMMAND_TIMEOUT",
    "DB_ACQUIRE_TIMEOUT",
    "DB_CONNECT_TIMEOUT",
    "DB_BULK_COMMAND_TIMEOUT",
    "REDIS_SOCKET_TIMEOUT",
)


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


def _read(env: Mapping[str, str], name: str) -> str | None:
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


def _url(name: str, value: str | None, schemes: tuple[str, ...]) -> str | None:
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


def _kafka_servers(value: str | None) -> str | None:
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


def _user_ids(value: str | None) -> frozenset[int]:
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


def _listen(value: str | None) -> tuple[str, int]:
    """``host:port`` the webhook server binds to (default ``0.0.0.0:8080``)."""
    if not value:
        return ("0.0.0.0", 8080)
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"TELEGRAM_WEBHOOK_LISTEN: {value!r} is not host:port")
    return (host or "0.0.0.0", int(port))


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A timeout in seconds: a positive number, at most a day."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if len(raw) > 12 or not raw.replace(".", "", 1).isdigit() or not 0 < float(raw) <= 86400:
        raise ConfigError(f"{name}: {raw[:20]!r} is not a number of seconds between 0 and 86400")
    return float(raw)


WEBHOOK_SECRET_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{16,256}")
"""Telegram's ``secret_token`` alphabet (1-256 characters); we ask for at least 16."""


def _webhook_secret(env: Mapping[str, str]) -> Secret | None:
    secret = _secret(env, "TELEGRAM_WEBHOOK_SECRET")
    if secret is not None and WEBHOOK_SECRET_PATTERN.fullmatch(secret.reveal()) is None:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET: use 16 to 256 characters of A-Z, a-z, 0-9, _ and -"
        )
    return secret


def _secret(env: Mapping[str, str], name: str) -> Secret | None:
    value = _read(env, name)
    return Secret(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of every process. ``None`` means unset."""

    telegram_bot_token: Secret | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: Secret | None = None
    telegram_webhook_listen: tuple[str, int] = ("0.0.0.0", 8080)
    anthropic_api_key: Secret | None = None
    anthropic_base_url: str = DEFAULT_ANTHROPIC_BASE_URL
    openai_api_key: Secret | None = None
    openai_base_url: str | None = None
    google_api_key: Secret | None = None
    google_gemini_base_url: str | None = None
    e2b_api_key: Secret | None = None
    kafka_bootstrap_servers: str | None = None
    database_url: Secret | None = None
    redis_url: Secret | None = None
    privileged_user_ids: frozenset[int] = field(default_factory=frozenset)
    broker_compat: str = "auto"
    state_dir: Path = Path(".botctl")
    embedded_broker: str = "kafka"
    maven_repo_url: str = DEFAULT_MAVEN_REPO_URL
    cache_dir: Path | None = None
    log_level: str = "INFO"
    metrics_port: int | None = None
    db_command_timeout: float = 10.0
    db_acquire_timeout: float = 5.0
    db_connect_timeout: float = 10.0
    db_bulk_command_timeout: float = 3600.0
    redis_socket_timeout: float = 1.0
    default_model: str = DEFAULT_MODEL
    """The model of users who have not chosen one (an id or name of the model registry)."""

    @property
    def uses_embedded_stack(self) -> bool:
        """True when none of the three service URLs is set: the project starts its own."""
        return (
            self.kafka_bootstrap_servers is None
            and self.database_url is None
            and self.redis_url is None
        )

    def secret_values(self) -> list[str]:
        """Every secret set, revealed: what the log redaction must never let through."""
        return [
            value.reveal()
            for f in fields(self)
            if isinstance(value := getattr(self, f.name), Secret)
        ]

    def require(self, *names: str) -> None:
        """Raise :class:`ConfigError` for the first of ``names`` (field names) that is unset."""
        for name in names:
            if getattr(self, name) is None:
                env = name.upper()
                raise ConfigError(f"{env} is not set (set it, or {env}_FILE with a path to it)")

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"Settings({shown})"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    database_url = _url("DATABASE_URL", _read(env, "DATABASE_URL"), ("postgres", "postgresql"))
    redis_url = _url("REDIS_URL", _read(env, "REDIS_URL"), ("redis", "rediss", "unix"))
    compat = env.get("BROKER_COMPAT", "auto").strip().lower()
    if compat not in ("auto", "tansu", "kafka"):
        raise ConfigError(f"BROKER_COMPAT: {compat!r} is not one of auto, tansu, kafka")
    embedded_broker = env.get("EMBEDDED_BROKER", "kafka").strip().lower() or "kafka"
    if embedded_broker not in ("kafka", "tansu"):
        raise ConfigError(f"EMBEDDED_BROKER: {embedded_broker!r} is not one of kafka, tansu")
    level = env.get("LOG_LEVEL", "INFO").strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL: {level!r} is not one of DEBUG, INFO, WARNING, ERROR")
    metrics_port = env.get("METRICS_PORT") or None
    if metrics_port is not None and not (metrics_port.isdigit() and 0 < int(metrics_port) < 65536):
        raise ConfigError(f"METRICS_PORT: {metrics_port!r} is not a TCP port number")
    return Settings(
        telegram_bot_token=_secret(env, "TELEGRAM_BOT_TOKEN"),
        telegram_api_url=_url(
            "TELEGRAM_API_URL", env.get("TELEGRAM_API_URL") or None, ("http", "https")
        )
        or DEFAULT_TELEGRAM_API_URL,
        telegram_webhook_url=_url(
            "TELEGRAM_WEBHOOK_URL", env.get("TELEGRAM_WEBHOOK_URL") or None, ("https",)
        ),
        telegram_webhook_secret=_webhook_secret(env),
        telegram_webhook_listen=_listen(env.get("TELEGRAM_WEBHOOK_LISTEN")),
        anthropic_api_key=_secret(env, "ANTHROPIC_API_KEY"),
        anthropic_base_url=_url(
            "ANTHROPIC_BASE_URL", env.get("ANTHROPIC_BASE_URL") or None, ("http", "https")
        )
        or DEFAULT_ANTHROPIC_BASE_URL,
        openai_api_key=_secret(env, "OPENAI_API_KEY"),
        openai_base_url=_url(
            "OPENAI_BASE_URL", env.get("OPENAI_BASE_URL") or None, ("http", "https")
        ),
        google_api_key=_secret(env, "GOOGLE_API_KEY"),
        google_gemini_base_url=_url(
            "GOOGLE_GEMINI_BASE_URL", env.get("GOOGLE_GEMINI_BASE_URL") or None, ("http", "https")
        ),
        e2b_api_key=_secret(env, "E2B_API_KEY"),
        kafka_bootstrap_servers=_kafka_servers(env.get("KAFKA_BOOTSTRAP_SERVERS") or None),
        database_url=Secret(database_url) if database_url else None,
        redis_url=Secret(redis_url) if redis_url else None,
        privileged_user_ids=_user_ids(_read(env, "PRIVILEGED_USER_IDS")),
        broker_compat=compat,
        state_dir=Path(env.get("BOTCTL_STATE_DIR") or ".botctl"),
        embedded_broker=embedded_broker,
        maven_repo_url=_url("MAVEN_REPO_URL", env.get("MAVEN_REPO_URL") or None, ("https", "http"))
        or DEFAULT_MAVEN_REPO_URL,
        cache_dir=Path(env["CLAUDEGRAM_CACHE_DIR"]) if env.get("CLAUDEGRAM_CACHE_DIR") else None,
        log_level=level,
        metrics_port=int(metrics_port) if metrics_port is not None else None,
        db_command_timeout=_seconds(env, "DB_COMMAND_TIMEOUT", 10.0),
        db_acquire_timeout=_seconds(env, "DB_ACQUIRE_TIMEOUT", 5.0),
        db_connect_timeout=_seconds(env, "DB_CONNECT_TIMEOUT", 10.0),
        db_bulk_command_timeout=_seconds(env, "DB_BULK_COMMAND_TIMEOUT", 3600.0),
        redis_socket_timeout=_seconds(env, "REDIS_SOCKET_TIMEOUT", 1.0),
        default_model=_default_model(env.get("DEFAULT_MODEL")),
    )


def _default_model(raw: str | None) -> str:
    if not raw or not raw.strip():
        return DEFAULT_MODEL
    model = parse_model_name(raw)
    if model is None:
        raise ConfigError(f"DEFAULT_MODEL: {raw.strip()!r} is not a model /model offers")
    return model
