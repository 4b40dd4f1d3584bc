"""Naming a new forum topic from its first message: the prompt for a small model and the
clean-up of its answer to a 3-to-6-word title."""

from __future__ import annotations

import re
from typing import Any, Final

from actors.texts import Language, say

MIN_WORDS: Final = 3
MAX_WORDS: Final = 6
MAX_TITLE_CHARS: Final = 128
TITLE_MAX_TOKENS: Final = 32

TITLE_SYSTEM: Final = (
    "You name chat threads. Reply with a title of 3 to 6 words that says what the user's "
    "message is about, in the language of the message. No quotes, no punctuation at the "
    "end, no emoji, nothing else."
)
_STRIP: Final = re.compile("[\"'`*_#>\\[\\]\u00ab\u00bb\u201c\u201d\u2018\u2019]")
_LABEL: Final = re.compile(r"^\s*(title|topic|name)\s*:\s*", re.IGNORECASE)


def title_request(first_message: str, model: str) -> dict[str, Any]:
    """Messages API arguments for the naming call (no streaming needed)."""
    excerpt = first_message.strip()[:2000] or "(a file without text)"
    return {
        "model": model,
        "max_tokens": TITLE_MAX_TOKENS,
        "system": TITLE_SYSTEM,
        "messages": [{"role": "user", "content": f"Message:\n{excerpt}\n\nTitle:"}],
    }


def _words(text: str) -> list[str]:
    first_line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    cleaned = _STRIP.sub("", _LABEL.sub("", first_line))
    return [w for w in cleaned.split() if any(c.isalnum() for c in w)]


def clean_title(language: Language, answer: str, first_message: str) -> str:
    """3 to 6 words from the model's answer; else from the message; else a fallback in the
    user's language."""
    fallback = say(language, "thread.fallback_title")
    words = _words(answer)
    if len(words) < MIN_WORDS:
        words = _words(first_message)
    if not words:
        return fallback
    title = " ".join(words[:MAX_WORDS]).rstrip(".,;:!?-\u2013\u2014")
    if title and title[0].islower():
        title = title[0].upper() + title[1:]
    return title[:MAX_TITLE_CHARS] or fallback
