"""The model registry: one place for ids, labels, limits, capabilities, names and price rows,
and the operator's default model."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.billing.pricing import PRICE_TABLES, PriceTable, price, resolve_model
from actors.gateway.bot_commands import parse_model_name
from actors.thread.decide import Facts, effective_model
from actors.thread.models import (
    DEFAULT_MODEL,
    GEMINI_FLASH,
    GEMINI_FLASH_LITE,
    GEMINI_PRO,
    HAIKU,
    MODELS,
    OPUS,
    SONNET,
    model_family,
    model_spec,
    provider_of,
)
from actors.thread.state import ThreadState
from actors.users.decide import UsersState, decide
from events.envelope import new_envelope
from events.messages import TelegramUser
from events.usage import Usage
from events.users import RegistrationRequested
from infra.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_menu_offers_three_claude_and_three_gemini_models() -> None:
    """/model offers Haiku, Sonnet, Opus, then Gemini Flash-Lite, Flash and Pro."""
    assert list(MODELS) == [HAIKU, SONNET, OPUS, GEMINI_FLASH_LITE, GEMINI_FLASH, GEMINI_PRO]
    assert {provider_of(m) for m in (HAIKU, SONNET, OPUS)} == {"anthropic"}
    assert {provider_of(m) for m in (GEMINI_FLASH_LITE, GEMINI_FLASH, GEMINI_PRO)} == {"google"}


@pytest.mark.parametrize("table", PRICE_TABLES, ids=lambda t: t.version)
def test_every_registry_model_has_its_price_row(table: PriceTable) -> None:
    """Each model names a row of every price table: none is charged at a ceiling."""
    for spec in MODELS.values():
        assert spec.price_id in table.models
        assert resolve_model(table, spec.id).how == "exact"


@pytest.mark.parametrize(
    ("model", "inp", "out", "cached"),
    [
        (GEMINI_FLASH_LITE, "0.25", "1.50", "0.025"),
        (GEMINI_FLASH, "0.50", "3", "0.05"),
        (GEMINI_PRO, "2", "12", "0.20"),
    ],
)
def test_gemini_rows_charge_the_list_prices(model: str, inp: str, out: str, cached: str) -> None:
    """100k input and cached tokens (a prompt under Pro's 200k long-context threshold) and a
    million output tokens on Gemini cost the reference list prices."""
    usage = Usage(input_tokens=100_000, output_tokens=1_000_000, cache_read_input_tokens=100_000)
    priced = price(at=NOW, model=model, usage=usage)
    amounts = {line.item: line.amount for line in priced.lines}
    assert amounts == {
        f"{model}/input_tokens": Decimal(inp) / 10,
        f"{model}/output_tokens": Decimal(out),
        f"{model}/cache_read_tokens": Decimal(cached) / 10,
    }


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gemini-3.1-flash-lite-preview-06-2026", "gemini-flash-lite"),
        ("gemini-3-flash-preview-12-2026", "gemini-flash"),
        ("gemini-2.5-pro", "gemini-pro"),
        ("claude-3-5-sonnet-20241022", "sonnet"),
        ("gpt-5", None),
    ],
)
def test_a_family_is_the_most_specific_one_the_id_names(model: str, family: str | None) -> None:
    """Flash-Lite is not taken for Flash; an unknown Gemini snapshot finds its family."""
    assert model_family(model) == family


def test_an_unknown_gemini_snapshot_is_charged_at_its_family_ceiling() -> None:
    """A newer Flash snapshot is charged like Flash, never at zero."""
    resolution = resolve_model(PRICE_TABLES[-1], "gemini-3-flash-preview-12-2026")
    assert resolution.how == "family_ceiling"
    assert resolution.price.input == Decimal("0.50")


@given(st.sampled_from(list(MODELS)))
def test_every_model_is_found_by_its_names_id_and_label(model: str) -> None:
    """/model accepts each registry name, the API id and the label, in any case."""
    spec = MODELS[model]
    for name in (*spec.names, spec.id, spec.label.upper()):
        assert parse_model_name(f" {name} ") == model


def test_flash_and_flash_lite_are_different_names() -> None:
    assert parse_model_name("flash") == GEMINI_FLASH
    assert parse_model_name("flash-lite") == GEMINI_FLASH_LITE
    assert parse_model_name("gemini") is None


def test_gemini_limits_and_capabilities() -> None:
    """Gemini: 1,048,576-token window, 65,536 output, thinking by level, tools, no Claude
    server tools; an unknown gemini id is a Google model with conservative limits."""
    for model in (GEMINI_FLASH_LITE, GEMINI_FLASH, GEMINI_PRO):
        spec = model_spec(model)
        assert (spec.context_window, spec.max_output_tokens) == (1_048_576, 65_536)
        assert (spec.tools, spec.images, spec.pdfs, spec.server_tools) == (True, True, True, False)
    assert model_spec(GEMINI_PRO).min_thinking_level == "low"
    assert model_spec("gemini-9-ultra").provider == "google"


def test_the_default_model_is_a_setting() -> None:
    """DEFAULT_MODEL takes a registry name or id; an unknown one is refused by name."""
    assert load_settings({}).default_model == DEFAULT_MODEL
    assert load_settings({"DEFAULT_MODEL": "flash-lite"}).default_model == GEMINI_FLASH_LITE
    assert load_settings({"DEFAULT_MODEL": OPUS}).default_model == OPUS
    with pytest.raises(ConfigError, match="DEFAULT_MODEL"):
        load_settings({"DEFAULT_MODEL": "gpt-5"})


def test_new_users_start_on_the_configured_default() -> None:
    """The users actor registers a new user on the operator's default model."""
    state = UsersState(default_model=GEMINI_FLASH_LITE)
    command = RegistrationRequested(
        **new_envelope(key="7", producer="gateway", occurred_at=NOW),
        profile=TelegramUser(user_id=7, first_name="Ada"),
        chat_id=7,
    )
    (registered,) = decide(state.get(7), command).events
    assert registered.default_model == GEMINI_FLASH_LITE  # type: ignore[union-attr]


def test_a_thread_without_a_user_model_uses_the_configured_default() -> None:
    state = ThreadState(key="1:0")
    assert effective_model(state, Facts(default_model=GEMINI_FLASH)) == GEMINI_FLASH
    assert effective_model(state, Facts(user_model=OPUS, default_model=GEMINI_FLASH)) == OPUS


MODEL_ID = re.compile("[\"'](?:" + "|".join(re.escape(m) for m in MODELS) + ")[\"']")


def test_model_ids_are_written_only_in_the_registry() -> None:
    """No module of the bot (emulators aside: they play the APIs) spells a registry model's
    id; the registry is the one place."""
    allowed = {ROOT / "actors" / "thread" / "models.py"}
    offenders = []
    for package in ("actors", "infra", "projections"):
        for path in (ROOT / package).rglob("*.py"):
            if path in allowed or "emulators" in path.parts:
                continue
            if MODEL_ID.search(path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
