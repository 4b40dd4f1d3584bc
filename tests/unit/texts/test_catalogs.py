"""The per-language catalogs: complete, consistent, and the lookup's language choice."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.texts import CATALOGS, LANGUAGES, en, language_of, placeholders, ru, say


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_is_in_every_catalog(language: str) -> None:
    """A key present in any catalog is present in each (a missing translation fails)."""
    every = set().union(*(catalog.keys() for catalog in CATALOGS.values()))
    missing = sorted(every - CATALOGS[language].keys())  # type: ignore[index]
    assert not missing, f"{language} lacks {missing}"


def test_placeholders_agree_between_languages() -> None:
    """A key's template names the same placeholders in every language."""
    differing = {
        key: {lang: sorted(placeholders(CATALOGS[lang][key])) for lang in LANGUAGES}
        for key in en.TEXTS
        if len({placeholders(CATALOGS[lang].get(key, "")) for lang in LANGUAGES}) > 1
    }
    assert not differing


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_formats(language: str) -> None:
    """Each template fills in with its own placeholders (no stray braces)."""
    for key, template in CATALOGS[language].items():  # type: ignore[index]
        values = dict.fromkeys(placeholders(template), "1")
        assert say(language, key, **values)  # type: ignore[arg-type]


def test_russian_is_russian() -> None:
    """The Russian catalog is not a copy of the English one (commands and names aside)."""
    same = [k for k, v in ru.TEXTS.items() if v == en.TEXTS[k] and "{" not in v]
    assert len(same) <= len(ru.TEXTS) // 20, same


def test_a_missing_placeholder_is_an_error() -> None:
    """Forgetting a placeholder's value raises instead of sending a template."""
    with pytest.raises(KeyError):
        say("en", "gateway.welcome_back")


@given(st.one_of(st.none(), st.text(max_size=8)))
def test_language_from_telegram(code: str | None) -> None:
    """Telegram ``ru*`` means Russian, anything else English."""
    expected = "ru" if code is not None and code.strip().lower().startswith("ru") else "en"
    assert language_of(code) == expected


@given(st.one_of(st.none(), st.text(max_size=8)), st.sampled_from(["en", "ru"]))
def test_a_chosen_language_wins(code: str | None, chosen: str) -> None:
    """The language chosen with /language overrides Telegram's."""
    assert language_of(code, chosen) == chosen


def test_an_unknown_choice_is_ignored() -> None:
    """A stored choice the bot does not speak falls back to Telegram's language."""
    assert language_of("ru-RU", "de") == "ru"
    assert language_of("de", "xx") == "en"
