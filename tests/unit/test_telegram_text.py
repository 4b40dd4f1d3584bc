"""utf16_len: the one way text is measured as Telegram measures it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from actors.telegram_text import utf16_len


@given(st.text())
def test_utf16_len_counts_astral_characters_twice(text: str) -> None:
    """Every character counts once, characters outside the BMP twice (UTF-16 code units)."""
    assert utf16_len(text) == sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def test_utf16_len_of_emoji_and_lone_surrogate() -> None:
    """An emoji is two code units; a lone surrogate (from a JSON escape) is one, not an error."""
    assert utf16_len("a😀b") == 4
    assert utf16_len("x\ud800y") == 3
