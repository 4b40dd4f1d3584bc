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
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from actors.thread.models import DEFAULT_MODEL, parse_model_name
from actors.typed_numbers import parse_user_id, shown

DEFAULT_TELEGRAM_API_URL: Final = "https://api.telegram.org"
DEFAULT_ANTHROPIC_BASE_URL: Final = "https://api.anthropic.com"
DEFAULT_MAVEN_REPO_URL: Final = "https://repo.maven.apache.org/maven2"
DEFAULT_GEMINI_IMAGE_MODEL: Final = "gemini-3.1-flash-image-preview"

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
    "FILE_STORE_URL",
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
    "BROKER_WAIT",
    "FILE_STORE_URL",
    "FILE_RETENTION_DAYS",
    "E2B_API_URL",
    "E2B_SANDBOX_URL",
    "E2B_TEMPLATE",
    "SANDBOX_IDLE_TIMEOUT",
    "GEMINI_IMAGE_MODEL",
    "GEMINI_IMAGE_TIMEOUT",
    "GEMINI_IMAGE_ATTEMPTS",
    "LATEX_BIN_DIR",
    "LATEX_TIMEOUT",
    "KAFKA_HEAP_OPTS",
    "JAVA_HOME",
    "XDG_CACHE_HOME",
    "TANSU_LOG",
    "TOPIC_PREFIX",
    "READ_SCHEMA",
    "REDIS_KEY_PREFIX",
    "PROJECTOR_BATCH_SIZE",
    "PROJECTOR_BATCH_MS",
    "THREAD_THINKING_BUDGET",
    "THREAD_FIRST_TOKEN_TIMEOUT",
    "THREAD_IDLE_TIMEOUT",
    "THREAD_MODEL_RETRIES",
    "THREAD_BALANCE_WAIT",
    "THREAD_PRODUCERS",
    "THREAD_DATA_DIR",
    "THREAD_MAX_TOOL_ITERATIONS",
    "THREAD_FETCH_MAX_WAIT_MS",
    "CLAUDEGRAM_TEST_CRASH",
)

DEFAULT_MAX_TOOL_ITERATIONS: Final = 25
"""Model calls per turn at most (``THREAD_MAX_TOOL_ITERATIONS``); the last has tools off."""

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


def _database_url(value: str | None) -> str | None:
    """A libpq URL: ``postgresql://user:pw@host:port/db``, or with the host (a TCP host or a
    unix-socket folder) in the query instead: ``postgresql://user@/db?host=/run/postgresql``."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme in ("postgres", "postgresql") and not parts.hostname:
        hosts = [v for k, v in parse_qsl(parts.query) if k == "host" and v]
        if hosts:
            return value
    return _url("DATABASE_URL", value, ("postgres", "postgresql"))


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


def _seconds(env: Mapping[str, str], name: str, default: float, *, zero: bool = False) -> float:
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
class CrashHook:
    """Test-only: exit the process abruptly at ``point``, after ``after`` passes there."""

    point: str
    after: int = 1


def _crash_hook(value: str | None) -> CrashHook | None:
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


def _count(env: Mapping[str, str], name: str, default: int, *, low: int = 0) -> int:
    """A whole number of at least ``low`` (at most nine digits)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if len(raw) > 9 or not raw.isdigit() or int(raw) < low:
        raise ConfigError(f"{name}: {raw[:20]!r} is not a whole number of at least {low}")
    return int(raw)


def _name(env: Mapping[str, str], name: str, default: str, pattern: str) -> str:
    raw = env.get(name, default).strip()
    if re.fullmatch(pattern, raw) is None:
        raise ConfigError(f"{name}: {raw[:40]!r} is not allowed here (allowed: {pattern})")
    return raw


def _cache_dir(env: Mapping[str, str]) -> Path:
    """``CLAUDEGRAM_CACHE_DIR``, else ``$XDG_CACHE_HOME/claudegram``, else ``~/.cache/...``."""
    if env.get("CLAUDEGRAM_CACHE_DIR"):
        return Path(env["CLAUDEGRAM_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claudegram"


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
    broker_wait: float = 300.0
    """Seconds a starting service waits for an unreachable broker (backing off) before it
    exits: a broker restart must not make every service crash-loop the supervisor."""
    # the thread file store (issue 14; README "Files"): where files' bytes go, how long kept
    file_store_url: Secret | None = None
    """Unset: PostgreSQL large objects in ``DATABASE_URL``'s database; a ``postgresql://`` URL:
    another database; S3-compatible URLs are refused at start-up (not supported here)."""
    file_retention_days: float = 30.0
    """Days a stored file's bytes are kept (0: forever); the records and events stay."""
    # the provider tools (issue 14; README "What the model can use")
    e2b_api_url: str | None = None
    """E2B's API (unset: the SDK's default); with ``e2b_sandbox_url`` an emulator or a
    self-hosted E2B. ``http://`` URLs are spoken HTTP/1.1."""
    e2b_sandbox_url: str | None = None
    e2b_template: str | None = None
    sandbox_idle_timeout: float = 300.0
    """Seconds a thread's sandbox stays warm after its last run before it is closed."""
    gemini_image_model: str = DEFAULT_GEMINI_IMAGE_MODEL
    gemini_image_timeout: float = 120.0
    """Seconds one image request may take (each attempt)."""
    gemini_image_attempts: int = 3
    """Attempts of an image request answered 5xx (503 overloaded...)."""
    latex_bin_dir: Path | None = None
    """Where ``latex`` and ``dvipng`` are (unset: the PATH); none there: render_latex says
    LaTeX is not available."""
    latex_timeout: float = 10.0
    kafka_heap_opts: str | None = None
    java_home: Path | None = None
    tansu_log: str = "warn"
    topic_prefix: str = ""
    read_schema: str = "public"
    redis_key_prefix: str = "cg:"
    projector_batch_size: int = 2000
    projector_batch_ms: int = 20
    thread_thinking_budget: int | None = None
    thread_first_token_timeout: float = 60.0
    thread_idle_timeout: float = 60.0
    thread_model_retries: int = 1
    thread_balance_wait: float = 2.0
    thread_producers: int = 4
    thread_data_dir: Path | None = None
    thread_max_tool_iterations: int = DEFAULT_MAX_TOOL_ITERATIONS
    thread_fetch_max_wait_ms: int | None = None
    test_crash: CrashHook | None = None

    def crash_after(self, point: str) -> int:
        """How many passes at ``point`` before the test crash hook exits (0: never)."""
        hook = self.test_crash
        return hook.after if hook is not None and hook.point == point else 0

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
    database_url = _database_url(_read(env, "DATABASE_URL"))
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
        cache_dir=_cache_dir(env),
        log_level=level,
        metrics_port=int(metrics_port) if metrics_port is not None else None,
        db_command_timeout=_seconds(env, "DB_COMMAND_TIMEOUT", 10.0),
        db_acquire_timeout=_seconds(env, "DB_ACQUIRE_TIMEOUT", 5.0),
        db_connect_timeout=_seconds(env, "DB_CONNECT_TIMEOUT", 10.0),
        db_bulk_command_timeout=_seconds(env, "DB_BULK_COMMAND_TIMEOUT", 3600.0),
        redis_socket_timeout=_seconds(env, "REDIS_SOCKET_TIMEOUT", 1.0),
        broker_wait=_seconds(env, "BROKER_WAIT", 300.0, zero=True),
        file_store_url=_file_store_url(_read(env, "FILE_STORE_URL")),
        file_retention_days=_days(env, "FILE_RETENTION_DAYS", 30.0),
        **_tool_settings(env),
        kafka_heap_opts=env.get("KAFKA_HEAP_OPTS") or None,
        java_home=Path(env["JAVA_HOME"]) if env.get("JAVA_HOME") else None,
        tansu_log=env.get("TANSU_LOG") or "warn",
        topic_prefix=_name(env, "TOPIC_PREFIX", "", r"[A-Za-z0-9._-]{0,64}"),
        read_schema=_name(env, "READ_SCHEMA", "public", r"[a-z_][a-z0-9_]{0,62}"),
        redis_key_prefix=_name(env, "REDIS_KEY_PREFIX", "cg:", r"[A-Za-z0-9._:-]{1,64}"),
        projector_batch_size=_count(env, "PROJECTOR_BATCH_SIZE", 2000, low=1),
        projector_batch_ms=_count(env, "PROJECTOR_BATCH_MS", 20),
        **_thread_settings(env),
        test_crash=_crash_hook(env.get("CLAUDEGRAM_TEST_CRASH")),
        default_model=_default_model(env.get("DEFAULT_MODEL")),
    )


def _tool_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The provider tools' settings (E2B, Gemini images, TeX)."""
    attempts = (env.get("GEMINI_IMAGE_ATTEMPTS") or "3").strip()
    if not attempts.isdigit() or not 1 <= int(attempts) <= 10:
        raise ConfigError(f"GEMINI_IMAGE_ATTEMPTS: {attempts[:20]!r} is not a whole number 1-10")
    bin_dir = env.get("LATEX_BIN_DIR")
    return {
        "e2b_api_url": _url("E2B_API_URL", env.get("E2B_API_URL") or None, ("http", "https")),
        "e2b_sandbox_url": _url(
            "E2B_SANDBOX_URL", env.get("E2B_SANDBOX_URL") or None, ("http", "https")
        ),
        "e2b_template": env.get("E2B_TEMPLATE") or None,
        "sandbox_idle_timeout": _seconds(env, "SANDBOX_IDLE_TIMEOUT", 300.0),
        "gemini_image_model": env.get("GEMINI_IMAGE_MODEL") or DEFAULT_GEMINI_IMAGE_MODEL,
        "gemini_image_timeout": _seconds(env, "GEMINI_IMAGE_TIMEOUT", 120.0),
        "gemini_image_attempts": int(attempts),
        "latex_bin_dir": Path(bin_dir) if bin_dir else None,
        "latex_timeout": _seconds(env, "LATEX_TIMEOUT", 10.0),
    }


def _file_store_url(value: str | None) -> Secret | None:
    """FILE_STORE_URL: a PostgreSQL URL, or unset; S3-style storage is refused by name."""
    if not value:
        return None
    scheme = value.split(":", 1)[0].lower()
    if scheme in ("s3", "gs", "minio") or scheme in ("http", "https"):
        raise ConfigError(
            "FILE_STORE_URL: S3-compatible file storage is not supported here; leave it unset "
            "to keep files in PostgreSQL (large objects), or give a postgresql:// URL"
        )
    url = _url("FILE_STORE_URL", value, ("postgres", "postgresql"))
    return Secret(url) if url else None


def _days(env: Mapping[str, str], name: str, default: float) -> float:
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


def _thread_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The thread worker's ``THREAD_*`` settings, as :class:`Settings` keyword arguments."""
    data_dir = env.get("THREAD_DATA_DIR")
    return {
        "thread_thinking_budget": _count(env, "THREAD_THINKING_BUDGET", 0) or None,
        "thread_first_token_timeout": _seconds(env, "THREAD_FIRST_TOKEN_TIMEOUT", 60.0),
        "thread_idle_timeout": _seconds(env, "THREAD_IDLE_TIMEOUT", 60.0),
        "thread_model_retries": _count(env, "THREAD_MODEL_RETRIES", 1),
        "thread_balance_wait": _seconds(env, "THREAD_BALANCE_WAIT", 2.0, zero=True),
        "thread_producers": _count(env, "THREAD_PRODUCERS", 4, low=1),
        "thread_data_dir": Path(data_dir) if data_dir else None,
        "thread_max_tool_iterations": _count(
            env, "THREAD_MAX_TOOL_ITERATIONS", DEFAULT_MAX_TOOL_ITERATIONS, low=1
        ),
        "thread_fetch_max_wait_ms": _count(env, "THREAD_FETCH_MAX_WAIT_MS", 0) or None,
    }


def _default_model(raw: str | None) -> str:
    if not raw or not raw.strip():
        return DEFAULT_MODEL
    model = parse_model_name(raw)
    if model is None:
        raise ConfigError(f"DEFAULT_MODEL: {raw.strip()!r} is not a model /model offers")
    return model
