"""A token count for text the API has not counted for us, on the safe side for billing.

Used where usage must be estimated (the output streamed before ``/stop`` or a broken
stream: the API reports no final usage then) and to weigh inlined text files against the
context window. A flat "characters / 4" undercounts every script but English: Claude's
tokenizer spends about one token per CJK character and two to four per emoji, so CJK and
emoji were charged 3-16x too little.

Chosen over the ``count_tokens`` endpoint: that is a network call on the cancel path (which
must answer within a second, and may find the API unreachable: then it still needs a
fallback), counts a whole request rather than output, and is rate-limited on its own. The
per-script weights below are at or above the tokenizer's observed rates for each script,
and a character never costs more tokens than its UTF-8 bytes (byte-level tokens: the hard
upper bound), so the estimate errs towards charging a little more, never 3x less.
"""

from __future__ import annotations

import math
from typing import Final

ASCII_PER_TOKEN: Final = 3.0
"""English averages ~4 characters a token, code ~3.5; counted as 3."""
TWO_BYTE: Final = 0.5
"""Latin with accents, Cyrillic, Greek, Hebrew, Arabic: ~2.5-3 characters a token; 2."""
THREE_BYTE: Final = 1.5
"""CJK, kana, Hangul, Indic, Thai and most symbols: ~1 token a character, rarer ones 2."""
FOUR_BYTE: Final = 4.0
"""Emoji and rare CJK: up to one token per UTF-8 byte (the byte-level bound)."""


def estimate_tokens(text: str) -> int:
    """An upper estimate of ``text``'s tokens (0 for the empty string)."""
    return math.ceil(token_weight(text))


def token_weight(text: str) -> float:
    """The unrounded estimate: weights of pieces of a stream add up to the whole's."""
    if text.isascii():
        return len(text) / ASCII_PER_TOKEN
    ascii_chars = two = three = four = 0
    for char in text:
        code = ord(char)
        if code < 0x80:
            ascii_chars += 1
        elif code < 0x800:
            two += 1
        elif code < 0x10000:
            three += 1
        else:
            four += 1
    return ascii_chars / ASCII_PER_TOKEN + two * TWO_BYTE + three * THREE_BYTE + four * FOUR_BYTE
