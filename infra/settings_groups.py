"""Groups of settings parsed together, returned as :class:`infra.settings.Settings` keyword
arguments: a process's broker, log and metrics choices, the provider tools' and the thread
worker's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from actors.broadcast import policy as broadcast_policy
from infra import settings_values as values
from infra.settings_values import ConfigError

DEFAULT_GEMINI_IMAGE_MODEL: Final = "gemini-3.1-flash-image-preview"

DEFAULT_MAX_TOOL_ITERATIONS: Final = 25
"""Model calls per turn at most (``THREAD_MAX_TOOL_ITERATIONS``); the last has tools off."""


def process_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The broker compatibility switch, the embedded broker, the log level, the metrics port."""
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
    return {
        "broker_compat": compat,
        "embedded_broker": embedded_broker,
        "log_level": level,
        "metrics_port": int(metrics_port) if metrics_port is not None else None,
    }


def tool_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The provider tools' settings (E2B, Gemini images, TeX)."""
    attempts = (env.get("GEMINI_IMAGE_ATTEMPTS") or "3").strip()
    if not attempts.isdigit() or not 1 <= int(attempts) <= 10:
        raise ConfigError(f"GEMINI_IMAGE_ATTEMPTS: {attempts[:20]!r} is not a whole number 1-10")
    bin_dir = env.get("LATEX_BIN_DIR")
    return {
        "e2b_api_url": values.url("E2B_API_URL", env.get("E2B_API_URL") or None, ("http", "https")),
        "e2b_sandbox_url": values.url(
            "E2B_SANDBOX_URL", env.get("E2B_SANDBOX_URL") or None, ("http", "https")
        ),
        "e2b_template": env.get("E2B_TEMPLATE") or None,
        "sandbox_idle_timeout": values.seconds(env, "SANDBOX_IDLE_TIMEOUT", 300.0),
        "gemini_image_model": env.get("GEMINI_IMAGE_MODEL") or DEFAULT_GEMINI_IMAGE_MODEL,
        "gemini_image_timeout": values.seconds(env, "GEMINI_IMAGE_TIMEOUT", 120.0),
        "gemini_image_attempts": int(attempts),
        "latex_bin_dir": Path(bin_dir) if bin_dir else None,
        "latex_timeout": values.seconds(env, "LATEX_TIMEOUT", 10.0),
    }


def broadcast_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The broadcaster's ``BROADCAST_*`` settings (pace, sends in flight, progress)."""
    rate = values.whole_number(
        env, "BROADCAST_SENDS_PER_SECOND", broadcast_policy.SENDS_PER_SECOND, low=1
    )
    if rate > broadcast_policy.MAX_SENDS_PER_SECOND:
        raise ConfigError(
            f"BROADCAST_SENDS_PER_SECOND: {rate} is above Telegram's limit of about "
            f"{broadcast_policy.MAX_SENDS_PER_SECOND} messages a second per bot"
        )
    return {
        "broadcast_sends_per_second": rate,
        "broadcast_in_flight": values.whole_number(
            env, "BROADCAST_IN_FLIGHT", broadcast_policy.IN_FLIGHT, low=1
        ),
        "broadcast_progress_every": values.seconds(
            env, "BROADCAST_PROGRESS_EVERY", broadcast_policy.PROGRESS_EVERY_S
        ),
    }


def thread_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The thread worker's ``THREAD_*`` settings."""
    data_dir = env.get("THREAD_DATA_DIR")
    return {
        "thread_thinking_budget": values.whole_number(env, "THREAD_THINKING_BUDGET", 0) or None,
        "thread_first_token_timeout": values.seconds(env, "THREAD_FIRST_TOKEN_TIMEOUT", 60.0),
        "thread_idle_timeout": values.seconds(env, "THREAD_IDLE_TIMEOUT", 60.0),
        "thread_model_retries": values.whole_number(env, "THREAD_MODEL_RETRIES", 1),
        "thread_balance_wait": values.seconds(env, "THREAD_BALANCE_WAIT", 2.0, zero=True),
        "thread_queue_wait": values.seconds(env, "THREAD_QUEUE_WAIT", 300.0, zero=True),
        "thread_producers": values.whole_number(env, "THREAD_PRODUCERS", 4, low=1),
        "thread_data_dir": Path(data_dir) if data_dir else None,
        "thread_max_tool_iterations": values.whole_number(
            env, "THREAD_MAX_TOOL_ITERATIONS", DEFAULT_MAX_TOOL_ITERATIONS, low=1
        ),
        "thread_fetch_max_wait_ms": values.whole_number(env, "THREAD_FETCH_MAX_WAIT_MS", 0) or None,
    }
