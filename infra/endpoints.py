"""Where the three services are: configured URLs, or the embedded stack."""

from __future__ import annotations

from dataclasses import dataclass

from infra.postgres import PgTimeouts, configure_timeouts
from infra.redis_store import configure_socket_timeout
from infra.settings import ConfigError, Settings
from infra.stack.embedded import EmbeddedStack, StackError


@dataclass(frozen=True, slots=True)
class Endpoints:
    kafka_bootstrap: str
    database_url: str
    redis_url: str
    embedded: bool


def configured_endpoints(settings: Settings) -> Endpoints | None:
    """The configured URLs; None when none is set; an error when only some are."""
    if settings.uses_embedded_stack:
        return None
    missing = [
        name
        for name, value in (
            ("KAFKA_BOOTSTRAP_SERVERS", settings.kafka_bootstrap_servers),
            ("DATABASE_URL", settings.database_url),
            ("REDIS_URL", settings.redis_url),
        )
        if value is None
    ]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} not set: set all of KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL and "
            "REDIS_URL, or none of them to use the embedded stack"
        )
    assert settings.kafka_bootstrap_servers
    assert settings.database_url
    assert settings.redis_url
    return Endpoints(
        settings.kafka_bootstrap_servers,
        settings.database_url.reveal(),
        settings.redis_url.reveal(),
        embedded=False,
    )


async def resolve_endpoints(settings: Settings, *, start_embedded: bool) -> Endpoints:
    """Configured URLs win; else the running embedded stack, started here if asked to.

    Also sets this process's PostgreSQL and Redis timeouts from ``settings`` (every command
    and service resolves its endpoints here first)."""
    configure_timeouts(PgTimeouts.from_settings(settings))
    configure_socket_timeout(settings.redis_socket_timeout)
    configured = configured_endpoints(settings)
    if configured is not None:
        return configured
    stack = EmbeddedStack(settings.state_dir, settings=settings)
    state = stack.load()
    if (
        state is None
        or not all(s.name in state.services for s in state.services.values())
        or len(state.services) != 3
    ):
        if not start_embedded:
            raise StackError("the embedded stack is not running: start it with `botctl stack up`")
        state = await stack.start()
    return Endpoints(state.kafka_bootstrap, state.database_url, state.redis_url, embedded=True)
