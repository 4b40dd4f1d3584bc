"""/model's info card per model: context and answer sizes, prices from the model's price-table
row, what it can do; the button's confirmation toast stays within Telegram's 200 characters."""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType

import pytest

from actors.billing.pricing import PRICE_TABLES, ModelPrice
from actors.gateway import replies
from actors.gateway.model_card import model_card
from actors.texts import LANGUAGES, Language
from actors.thread.models import GEMINI_FLASH, GEMINI_FLASH_LITE, MODELS, SONNET


def test_gemini_flash_lite_card() -> None:
    """The Flash-Lite card: 1,048,576-token window, list prices, no Claude web tools."""
    card = model_card("en", GEMINI_FLASH_LITE)
    assert card.splitlines()[0] == "Gemini 3.1 Flash-Lite by Google"
    assert "Context: 1,048,576 tokens; answers up to 65,536 tokens." in card
    assert "input $0.25, output $1.50, cached input $0.025" in card
    assert "cache write" not in card
    assert "web" not in card
    assert "read images and PDFs" in card


def test_claude_card_names_cache_writes_and_the_web() -> None:
    card = model_card("en", SONNET)
    assert "input $3, output $15, cache write $3.75, cached input $0.30" in card
    assert "search and read the web" in card


def test_prices_come_from_the_table_row() -> None:
    """A new price table changes the card: prices are never written in the card."""
    table = PRICE_TABLES[-1]
    models = dict(table.models)
    models[GEMINI_FLASH] = ModelPrice(*(Decimal("0.75"),) * 4, Decimal("0.07"))
    changed = type(table)(
        version="test",
        effective_from=table.effective_from,
        models=MappingProxyType(models),
        web_search_per_use=table.web_search_per_use,
        web_fetch_per_use=table.web_fetch_per_use,
        whisper_per_minute=table.whisper_per_minute,
        sandbox_per_second=table.sandbox_per_second,
    )
    assert "input $0.75, output $0.75, cached input $0.07" in model_card(
        "en", GEMINI_FLASH, changed
    )


def test_the_russian_card_keeps_the_numbers() -> None:
    """The Russian card is worded in Russian with numbers and prices formatted as in English."""
    card = model_card("ru", SONNET)
    assert "ввод $3, ответ $15, запись в кэш $3.75, ввод из кэша $0.30" in card
    assert "Контекст: 200,000 токенов" in card or "Контекст: 1,000,000 токенов" in card
    assert "by" not in card


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("model", list(MODELS))
def test_every_model_has_a_card_and_a_short_toast(model: str, language: Language) -> None:
    """Each model's confirmation carries its card; the toast fits 200 characters."""
    info = replies.model_info(language, model)
    assert info.startswith(replies.model_chosen(language, model))
    assert model_card(language, model) in info
    assert len(replies.model_chosen(language, model)) <= 200
