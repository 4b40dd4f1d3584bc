"""Text lengths as Telegram counts them: in UTF-16 code units."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: characters outside the BMP count twice (a lone
    surrogate, which a JSON ``\\ud800`` escape can produce, counts once)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
