"""The composition root builds each client once, on first request, and only when asked."""

from __future__ import annotations

import subprocess
import sys

import pytest

from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.settings import ConfigError, Secret, Settings

ENDPOINTS = Endpoints("127.0.0.1:9", "postgresql://u@127.0.0.1:9/db", "redis://127.0.0.1:9", False)
PROFILE = BrokerProfile("test-cluster", tansu_workarounds=False)


async def test_one_bot_and_one_claude_client_per_root() -> None:
    """Every service of a process asking the root for the Bot or the Claude client gets the
    same one, built from the settings, and closing the root closes them."""
    settings = Settings(
        telegram_bot_token=Secret("123:abc"),
        telegram_api_url="http://127.0.0.1:9",
        anthropic_api_key=Secret("sk-test"),
        anthropic_base_url="http://127.0.0.1:9",
    )
    root = Root(settings, ENDPOINTS, profile=PROFILE)
    bot = root.bot()
    claude = root.claude()
    assert root.bot() is bot
    assert root.claude() is claude
    assert bot.token == "123:abc"
    assert str(claude.base_url).startswith("http://127.0.0.1:9")
    assert claude.max_retries == 0
    assert await root.profile() is PROFILE
    await root.close()
    assert root.bot() is not bot  # closed: a later request builds a new one


async def test_a_bot_without_a_token_is_one_line_naming_it() -> None:
    """Asking for the Bot with no TELEGRAM_BOT_TOKEN is a ConfigError naming it."""
    root = Root(Settings(), ENDPOINTS, profile=PROFILE)
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        root.bot()
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY is not set"):
        root.claude()


@pytest.mark.parametrize(
    "service",
    ["infra.users.worker", "infra.billing.worker", "infra.projector.runner", "infra.cli.main"],
)
def test_services_without_telegram_or_claude_do_not_import_them(service: str) -> None:
    """The root and the services that need neither the Bot nor Claude load neither aiogram
    nor anthropic (one process running them stays small)."""
    code = (
        f"import sys, infra.bootstrap, {service}\n"
        "loaded = [m for m in ('aiogram', 'anthropic', 'faust') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""
