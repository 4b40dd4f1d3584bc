"""Settings: environment names, *_FILE secrets, validation and masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.settings import ConfigError, load_settings


def test_defaults_use_the_embedded_stack() -> None:
    """With no service URL set, the embedded stack is used and public API URLs are defaults."""
    settings = load_settings({})
    assert settings.uses_embedded_stack
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.anthropic_base_url == "https://api.anthropic.com"


def test_secret_read_from_file(tmp_path: Path) -> None:
    """NAME_FILE supplies a secret when NAME is unset, with the trailing newline stripped."""
    path = tmp_path / "token"
    path.write_text("123:abc\n")
    settings = load_settings({"TELEGRAM_BOT_TOKEN_FILE": str(path)})
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.reveal() == "123:abc"


def test_unreadable_secret_file_names_the_setting(tmp_path: Path) -> None:
    """A *_FILE that cannot be read is a clear error naming the variable."""
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY_FILE="):
        load_settings({"ANTHROPIC_API_KEY_FILE": str(tmp_path / "missing")})


def test_secrets_never_appear_in_repr() -> None:
    """The settings' repr masks every secret, including credentials inside URLs."""
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": "123:topsecret",
            "ANTHROPIC_API_KEY": "sk-ant-topsecret",
            "DATABASE_URL": "postgresql://u:topsecret@db/x",
            "REDIS_URL": "redis://:topsecret@cache/0",
            "KAFKA_BOOTSTRAP_SERVERS": "k:9092",
        }
    )
    assert "topsecret" not in repr(settings)
    assert "topsecret" not in str(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL: unsupported URL scheme 'mysql'"),
        ({"REDIS_URL": "memcached://x"}, "REDIS_URL: unsupported URL scheme 'memcached'"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL: unsupported URL scheme 'ftp'"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "http://k:9092"}, "KAFKA_BOOTSTRAP_SERVERS: unsupported"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "k"}, "KAFKA_BOOTSTRAP_SERVERS: 'k' is not host:port"),
        ({"PRIVILEGED_USER_IDS": "1,abc"}, "PRIVILEGED_USER_IDS: 'abc' is not a numeric"),
        ({"BROKER_COMPAT": "pulsar"}, "BROKER_COMPAT: 'pulsar' is not one of"),
        ({"TELEGRAM_WEBHOOK_LISTEN": "0.0.0.0"}, "TELEGRAM_WEBHOOK_LISTEN: '0.0.0.0' is not"),
        ({"METRICS_PORT": "http"}, "METRICS_PORT: 'http' is not a TCP port"),
        (
            {"TELEGRAM_WEBHOOK_URL": "http://bot.example.com/hook"},
            "TELEGRAM_WEBHOOK_URL: unsupported URL scheme 'http'; use https://",
        ),
        ({"TELEGRAM_WEBHOOK_SECRET": "short"}, "TELEGRAM_WEBHOOK_SECRET: use 16 to 256"),
        ({"TELEGRAM_WEBHOOK_SECRET": "sixteen chars ok!"}, "TELEGRAM_WEBHOOK_SECRET: use 16"),
    ],
)
def test_malformed_settings_are_named(env: dict[str, str], message: str) -> None:
    """Each malformed setting is reported by name in one line."""
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as info:
        load_settings(env)
    assert "\n" not in str(info.value)


def test_webhook_url_must_be_https_and_a_valid_secret_is_kept() -> None:
    """Webhook mode takes only an https:// public URL; a well-formed secret is kept."""
    settings = load_settings(
        {
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/tg/hook",
            "TELEGRAM_WEBHOOK_SECRET": "A-good_secret-0123456789",
        }
    )
    assert settings.telegram_webhook_url == "https://bot.example.com/tg/hook"
    assert settings.telegram_webhook_secret is not None
    assert settings.telegram_webhook_secret.reveal() == "A-good_secret-0123456789"


def test_privileged_ids_and_kafka_list() -> None:
    """Admin ids parse as integers; a kafka:// prefix on bootstrap servers is accepted."""
    settings = load_settings(
        {"PRIVILEGED_USER_IDS": "1, 22;333", "KAFKA_BOOTSTRAP_SERVERS": "kafka://a:1,b:2"}
    )
    assert settings.privileged_user_ids == frozenset({1, 22, 333})
    assert settings.kafka_bootstrap_servers == "a:1,b:2"


def test_require_names_the_missing_variable() -> None:
    """require() reports the environment name of the first missing setting."""
    with pytest.raises(ConfigError, match=r"^ANTHROPIC_API_KEY is not set"):
        load_settings({"TELEGRAM_BOT_TOKEN": "x"}).require(
            "telegram_bot_token", "anthropic_api_key"
        )


def test_store_timeouts_have_defaults_and_are_configurable() -> None:
    """PostgreSQL and Redis timeouts default to bounded values and are read from the env."""
    from infra.postgres import PgTimeouts

    defaults = PgTimeouts.from_settings(load_settings({}))
    assert (defaults.command, defaults.acquire, defaults.connect) == (10.0, 5.0, 10.0)
    assert defaults.bulk_command == 3600.0
    assert load_settings({}).redis_socket_timeout == 1.0
    s = load_settings(
        {
            "DB_COMMAND_TIMEOUT": "2.5",
            "DB_ACQUIRE_TIMEOUT": "1",
            "DB_CONNECT_TIMEOUT": "3",
            "DB_BULK_COMMAND_TIMEOUT": "600",
            "REDIS_SOCKET_TIMEOUT": "0.5",
        }
    )
    assert PgTimeouts.from_settings(s) == PgTimeouts(2.5, 1.0, 3.0, 600.0)
    assert s.redis_socket_timeout == 0.5


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1e999999999", "100000", "nan"])
def test_a_malformed_timeout_is_named(value: str) -> None:
    """A timeout that is not a positive number of seconds (at most a day) stops start-up."""
    with pytest.raises(ConfigError, match="DB_COMMAND_TIMEOUT"):
        load_settings({"DB_COMMAND_TIMEOUT": value})


def test_provider_tool_settings_have_defaults_and_are_checked() -> None:
    """The tools' block: defaults when unset, values read, a bad attempt count refused."""
    defaults = load_settings({})
    assert (defaults.sandbox_idle_timeout, defaults.gemini_image_attempts) == (300.0, 3)
    assert defaults.latex_bin_dir is None
    assert defaults.e2b_api_url is None
    given = load_settings(
        {
            "E2B_API_URL": "http://127.0.0.1:9",
            "SANDBOX_IDLE_TIMEOUT": "60",
            "LATEX_BIN_DIR": "/opt/tex/bin",
            "GEMINI_IMAGE_ATTEMPTS": "5",
        }
    )
    assert given.e2b_api_url == "http://127.0.0.1:9"
    assert given.sandbox_idle_timeout == 60.0
    assert str(given.latex_bin_dir) == "/opt/tex/bin"
    assert given.gemini_image_attempts == 5
    with pytest.raises(ConfigError, match="GEMINI_IMAGE_ATTEMPTS"):
        load_settings({"GEMINI_IMAGE_ATTEMPTS": "0"})
    with pytest.raises(ConfigError, match="E2B_API_URL"):
        load_settings({"E2B_API_URL": "ftp://x"})


def test_file_store_settings() -> None:
    """Files go to PostgreSQL by default; another PostgreSQL URL is taken; an S3-compatible
    URL stops start-up saying it is not supported; retention is days, 0 meaning forever."""
    assert load_settings({}).file_store_url is None
    assert load_settings({}).file_retention_days == 30.0
    other = load_settings({"FILE_STORE_URL": "postgresql://u:p@db:5432/files"})
    assert other.file_store_url is not None
    assert other.file_store_url.reveal().endswith("/files")
    for url in ("s3://bucket/files", "https://minio.local/bucket"):
        with pytest.raises(ConfigError, match="S3-compatible file storage is not supported"):
            load_settings({"FILE_STORE_URL": url})
    assert load_settings({"FILE_RETENTION_DAYS": "0"}).file_retention_days == 0.0
    for bad in ("-1", "soon", "nan"):
        with pytest.raises(ConfigError, match="FILE_RETENTION_DAYS"):
            load_settings({"FILE_RETENTION_DAYS": bad})
