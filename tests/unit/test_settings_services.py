"""Settings of the services (THREAD_*, topic prefix, read schema, projector, crash hooks), the
libpq unix-socket DATABASE_URL, and the rule that only the settings read the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.settings import CRASH_POINTS, ENV_NAMES, ConfigError, CrashHook, load_settings
from infra.threads.turn_state import DEFAULT_MAX_ITERATIONS
from infra.threads.worker import ThreadWorkerConfig

ROOT = Path(__file__).resolve().parents[2]


def test_thread_worker_config_comes_from_the_settings() -> None:
    """Every THREAD_* variable, TOPIC_PREFIX and READ_SCHEMA reach the thread worker's config
    through Settings (ThreadWorkerConfig.from_env is gone)."""
    settings = load_settings(
        {
            "TOPIC_PREFIX": "e1234.",
            "READ_SCHEMA": "t_reads",
            "THREAD_THINKING_BUDGET": "1024",
            "THREAD_FIRST_TOKEN_TIMEOUT": "4",
            "THREAD_IDLE_TIMEOUT": "4.5",
            "THREAD_MODEL_RETRIES": "0",
            "THREAD_BALANCE_WAIT": "0",
            "THREAD_PRODUCERS": "2",
            "THREAD_DATA_DIR": "/tmp/worker-data",
            "THREAD_MAX_TOOL_ITERATIONS": "3",
            "THREAD_FETCH_MAX_WAIT_MS": "15",
        }
    )
    assert ThreadWorkerConfig.from_settings(settings) == ThreadWorkerConfig(
        topic_prefix="e1234.",
        thinking_budget=1024,
        first_token_timeout=4.0,
        idle_timeout=4.5,
        model_retries=0,
        balance_wait=0.0,
        producers=2,
        data_dir=Path("/tmp/worker-data"),
        read_schema="t_reads",
        max_tool_iterations=3,
        fetch_max_wait_ms=15,
    )


def test_thread_defaults_are_the_worker_defaults() -> None:
    """Unset, the settings give the thread worker the defaults it had before."""
    assert ThreadWorkerConfig.from_settings(load_settings({})) == ThreadWorkerConfig()
    assert load_settings({}).thread_max_tool_iterations == DEFAULT_MAX_ITERATIONS


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("THREAD_PRODUCERS", "0"),
        ("THREAD_MODEL_RETRIES", "-1"),
        ("THREAD_FIRST_TOKEN_TIMEOUT", "soon"),
        ("THREAD_MAX_TOOL_ITERATIONS", "1e9"),
        ("PROJECTOR_BATCH_SIZE", "0"),
        ("TOPIC_PREFIX", "a b"),
        ("READ_SCHEMA", "public; DROP TABLE users"),
        ("REDIS_KEY_PREFIX", ""),
    ],
)
def test_a_malformed_service_setting_is_one_line_naming_it(name: str, value: str) -> None:
    """A bad value stops start-up with one line that names the variable."""
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    assert str(caught.value).startswith(f"{name}:")
    assert "\n" not in str(caught.value)


def test_crash_hooks_are_one_setting() -> None:
    """CLAUDEGRAM_TEST_CRASH names one crash point (and a count); other points stay off."""
    settings = load_settings({"CLAUDEGRAM_TEST_CRASH": "projector-before-commit:450"})
    assert settings.test_crash == CrashHook("projector-before-commit", 450)
    assert settings.crash_after("projector-before-commit") == 450
    assert settings.crash_after("billing-after-append") == 0
    assert (
        load_settings({"CLAUDEGRAM_TEST_CRASH": "users-after-billing"}).crash_after(
            "users-after-billing"
        )
        == 1
    )
    assert load_settings({}).test_crash is None
    with pytest.raises(ConfigError, match="CLAUDEGRAM_TEST_CRASH"):
        load_settings({"CLAUDEGRAM_TEST_CRASH": "everywhere"})


@given(st.text(max_size=40))
def test_a_crash_hook_value_parses_or_is_refused(value: str) -> None:
    """Any value is either a known point (with a positive count) or a ConfigError."""
    try:
        settings = load_settings({"CLAUDEGRAM_TEST_CRASH": value})
    except ConfigError:
        return
    hook = settings.test_crash
    assert hook is None or (hook.point in CRASH_POINTS and hook.after >= 1)


def test_stack_settings_from_the_environment() -> None:
    """KAFKA_HEAP_OPTS, JAVA_HOME, TANSU_LOG and XDG_CACHE_HOME are read by Settings."""
    settings = load_settings(
        {
            "KAFKA_HEAP_OPTS": "-Xmx256m",
            "JAVA_HOME": "/opt/java",
            "TANSU_LOG": "debug",
            "XDG_CACHE_HOME": "/var/cache/me",
        }
    )
    assert settings.kafka_heap_opts == "-Xmx256m"
    assert settings.java_home == Path("/opt/java")
    assert settings.tansu_log == "debug"
    assert settings.cache_dir == Path("/var/cache/me/claudegram")
    assert load_settings({"CLAUDEGRAM_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}).cache_dir == (
        Path("/c")
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user@/db?host=/run/postgresql",
        "postgres://bot:pw@/claudegram?host=/var/run/postgresql&port=5433",
        "postgresql:///db?host=/tmp",
    ],
)
def test_a_libpq_unix_socket_url_is_a_valid_database_url(url: str) -> None:
    """A URL whose host is a unix-socket folder in the query is accepted as DATABASE_URL."""
    settings = load_settings({"DATABASE_URL": url})
    assert settings.database_url is not None
    assert settings.database_url.reveal() == url


def test_a_database_url_without_any_host_is_refused() -> None:
    """Neither a host in the URL nor ?host=: still an error naming DATABASE_URL."""
    with pytest.raises(ConfigError, match="DATABASE_URL: URL has no host"):
        load_settings({"DATABASE_URL": "postgresql://user@/db"})
    with pytest.raises(ConfigError, match="DATABASE_URL: URL has no host"):
        load_settings({"DATABASE_URL": "postgresql://user@/db?host="})


SETTINGS_MODULES = ("infra/settings.py", "infra/settings_values.py", "infra/settings_groups.py")
"""The modules that hold the settings: the only ones that may read the environment."""
ENV_READ = re.compile(r"os\.environ|getenv")
WRITES_CHILD_ENV = re.compile(r"(\{|^)\s*\*\*os\.environ\b|^\s*os\.environ\.(clear|update)\(")
"""``{**os.environ, ...}``: a parent building the environment of a child process; a fork
installing the environment it was given (``os.environ.clear()``, ``.update(env)``)."""


def test_only_the_settings_read_the_environment() -> None:
    """No module of infra, actors, events or projections reads the environment except the
    settings modules (infra/settings*.py); the others only pass it on to child processes."""
    readers = []
    for package in ("infra", "actors", "events", "projections"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in SETTINGS_MODULES:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if ENV_READ.search(line) and not WRITES_CHILD_ENV.search(line):
                    readers.append(f"{relative}:{number}: {line.strip()}")
    assert readers == []


def test_every_setting_read_is_a_known_name() -> None:
    """Every name load_settings reads is listed in ENV_NAMES (which Compose is checked against)."""
    source = "".join((ROOT / module).read_text() for module in SETTINGS_MODULES)
    read = set(re.findall(r'env(?:\.get\(|\[|, )"([A-Z][A-Z0-9_]+)"', source))
    assert len(read) > 40
    assert read - set(ENV_NAMES) == set()
