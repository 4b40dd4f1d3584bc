"""Typed settings read from the environment, with secrets also readable from ``NAME_FILE``.

One object, built once by the composition root. A missing or malformed setting raises
:class:`ConfigError` naming it, so the CLI can print one clear line instead of a traceback
from deep inside a client. Secrets are wrapped in :class:`Secret`, whose repr never shows them.

This module holds the names read, the :class:`Settings` dataclass and :func:`load_settings`;
the parsers of single values are in :mod:`infra.settings_values`, the groups parsed together
(the process's broker, log and metrics choices, the provider tools, the thread worker) in
:mod:`infra.settings_groups`. Only these three
modules read the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final

from actors.broadcast import policy as broadcast_policy
from actors.thread.models import DEFAULT_MODEL
from infra import settings_values as values
from infra.settings_groups import (
    DEFAULT_GEMINI_IMAGE_MODEL,
    DEFAULT_MAX_TOOL_ITERATIONS,
    broadcast_settings,
    process_settings,
    thread_settings,
    tool_settings,
)
from infra.settings_values import CRASH_POINTS, ConfigError, CrashHook, Secret

__all__ = [
    "CRASH_POINTS",
    "DEFAULT_ANTHROPIC_BASE_URL",
    "DEFAULT_GEMINI_IMAGE_MODEL",
    "DEFAULT_MAVEN_REPO_URL",
    "DEFAULT_MAX_TOOL_ITERATIONS",
    "DEFAULT_TELEGRAM_API_URL",
    "ENV_NAMES",
    "SECRET_NAMES",
    "ConfigError",
    "CrashHook",
    "Secret",
    "Settings",
    "load_settings",
]

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
    "THREAD_QUEUE_WAIT",
    "BROADCAST_SENDS_PER_SECOND",
    "BROADCAST_IN_FLIGHT",
    "BROADCAST_PROGRESS_EVERY",
    "THREAD_PRODUCERS",
    "THREAD_DATA_DIR",
    "THREAD_MAX_TOOL_ITERATIONS",
    "THREAD_FETCH_MAX_WAIT_MS",
    "CLAUDEGRAM_TEST_CRASH",
)


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
    thread_queue_wait: float = 300.0
    broadcast_sends_per_second: int = broadcast_policy.SENDS_PER_SECOND
    broadcast_in_flight: int = broadcast_policy.IN_FLIGHT
    broadcast_progress_every: float = broadcast_policy.PROGRESS_EVERY_S
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
    database_url = values.database_url(values.read_value(env, "DATABASE_URL"))
    redis_url = values.url(
        "REDIS_URL", values.read_value(env, "REDIS_URL"), ("redis", "rediss", "unix")
    )
    return Settings(
        **process_settings(env),
        telegram_bot_token=values.secret(env, "TELEGRAM_BOT_TOKEN"),
        telegram_api_url=values.url(
            "TELEGRAM_API_URL", env.get("TELEGRAM_API_URL") or None, ("http", "https")
        )
        or DEFAULT_TELEGRAM_API_URL,
        telegram_webhook_url=values.url(
            "TELEGRAM_WEBHOOK_URL", env.get("TELEGRAM_WEBHOOK_URL") or None, ("https",)
        ),
        telegram_webhook_secret=values.webhook_secret(env),
        telegram_webhook_listen=values.listen(env.get("TELEGRAM_WEBHOOK_LISTEN")),
        anthropic_api_key=values.secret(env, "ANTHROPIC_API_KEY"),
        anthropic_base_url=values.url(
            "ANTHROPIC_BASE_URL", env.get("ANTHROPIC_BASE_URL") or None, ("http", "https")
        )
        or DEFAULT_ANTHROPIC_BASE_URL,
        openai_api_key=values.secret(env, "OPENAI_API_KEY"),
        openai_base_url=values.url(
            "OPENAI_BASE_URL", env.get("OPENAI_BASE_URL") or None, ("http", "https")
        ),
        google_api_key=values.secret(env, "GOOGLE_API_KEY"),
        google_gemini_base_url=values.url(
            "GOOGLE_GEMINI_BASE_URL", env.get("GOOGLE_GEMINI_BASE_URL") or None, ("http", "https")
        ),
        e2b_api_key=values.secret(env, "E2B_API_KEY"),
        kafka_bootstrap_servers=values.kafka_servers(env.get("KAFKA_BOOTSTRAP_SERVERS") or None),
        database_url=Secret(database_url) if database_url else None,
        redis_url=Secret(redis_url) if redis_url else None,
        privileged_user_ids=values.user_ids(values.read_value(env, "PRIVILEGED_USER_IDS")),
        state_dir=Path(env.get("BOTCTL_STATE_DIR") or ".botctl"),
        maven_repo_url=values.url(
            "MAVEN_REPO_URL", env.get("MAVEN_REPO_URL") or None, ("https", "http")
        )
        or DEFAULT_MAVEN_REPO_URL,
        cache_dir=values.cache_dir(env),
        db_command_timeout=values.seconds(env, "DB_COMMAND_TIMEOUT", 10.0),
        db_acquire_timeout=values.seconds(env, "DB_ACQUIRE_TIMEOUT", 5.0),
        db_connect_timeout=values.seconds(env, "DB_CONNECT_TIMEOUT", 10.0),
        db_bulk_command_timeout=values.seconds(env, "DB_BULK_COMMAND_TIMEOUT", 3600.0),
        redis_socket_timeout=values.seconds(env, "REDIS_SOCKET_TIMEOUT", 1.0),
        broker_wait=values.seconds(env, "BROKER_WAIT", 300.0, zero=True),
        file_store_url=values.file_store_url(values.read_value(env, "FILE_STORE_URL")),
        file_retention_days=values.days(env, "FILE_RETENTION_DAYS", 30.0),
        **tool_settings(env),
        kafka_heap_opts=env.get("KAFKA_HEAP_OPTS") or None,
        java_home=Path(env["JAVA_HOME"]) if env.get("JAVA_HOME") else None,
        tansu_log=env.get("TANSU_LOG") or "warn",
        topic_prefix=values.identifier(env, "TOPIC_PREFIX", "", r"[A-Za-z0-9._-]{0,64}"),
        read_schema=values.identifier(env, "READ_SCHEMA", "public", r"[a-z_][a-z0-9_]{0,62}"),
        redis_key_prefix=values.identifier(
            env, "REDIS_KEY_PREFIX", "cg:", r"[A-Za-z0-9._:-]{1,64}"
        ),
        projector_batch_size=values.whole_number(env, "PROJECTOR_BATCH_SIZE", 2000, low=1),
        projector_batch_ms=values.whole_number(env, "PROJECTOR_BATCH_MS", 20),
        **thread_settings(env),
        **broadcast_settings(env),
        test_crash=values.crash_hook(env.get("CLAUDEGRAM_TEST_CRASH")),
        default_model=values.default_model(env.get("DEFAULT_MODEL")),
    )
