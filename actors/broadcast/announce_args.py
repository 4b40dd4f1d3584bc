"""The ``/announce`` grammar: ``/announce [to:ID,ID,...] <text>``.

``to:`` lists recipients by numeric user id (comma-separated, no spaces); without it the
announcement goes to every known user. The text is everything after, kept exactly as
written, its formatting (Telegram's entities) included, so the preview and every recipient
see the message the author typed. A text may start with a number: only a ``to:`` word names
recipients.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from actors import typed_numbers
from actors.broadcast import policy
from actors.texts import Language, say
from actors.texts.refusal import Refusal
from events.broadcast import TextEntity

_ANNOUNCE: Final = re.compile(
    r"/announce(?:@\w+)?\s+(?:to:(?P<ids>\S*)(?:\s+|$))?(?P<body>\S.*)?", re.DOTALL
)


class AnnounceRefused(Refusal):
    """An ``/announce`` that cannot be previewed: :meth:`text` says why, in a language (a
    refused id in the same language), then how to use ``/announce``."""

    def text(self, language: Language) -> str:
        usage = say(language, "broadcast.usage")
        if self.key == "broadcast.usage":
            return usage
        return f"{super().text(language)}\n{usage}"


@dataclass(frozen=True, slots=True)
class Announce:
    text: str
    entities: tuple[TextEntity, ...]
    recipients: tuple[int, ...] | None
    """None: every known user."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _recipients(raw: str) -> tuple[int, ...]:
    items = raw.split(",")
    if len(items) > policy.MAX_LISTED:
        raise AnnounceRefused("broadcast.too_many_ids", limit=policy.MAX_LISTED)
    try:
        ids = [typed_numbers.parse_user_id(item) for item in items]
    except typed_numbers.NumberRefused as exc:
        raise AnnounceRefused("broadcast.refused", problem=exc) from exc
    return tuple(dict.fromkeys(ids))


def body_entities(
    entities: Sequence[TextEntity], body_offset: int, body_length: int
) -> tuple[TextEntity, ...]:
    """The entities inside the body (UTF-16 ``body_offset`` .. + ``body_length``), moved to
    start at the body; ones outside it (the command) are dropped, ones crossing its edge
    are cut to it."""
    end = body_offset + body_length
    kept = []
    for e in entities:
        start, stop = max(e.offset, body_offset), min(e.offset + e.length, end)
        if stop <= start:
            continue
        moved = {f: getattr(e, f) for f in e.__struct_fields__}
        moved.update(offset=start - body_offset, length=stop - start)
        kept.append(TextEntity(**moved))
    return tuple(kept)


_STOP: Final = re.compile(r"/announce(?:@\w+)?\s+stop\s*", re.IGNORECASE)


def is_stop(text: str) -> bool:
    """Whether ``text`` is ``/announce stop`` (stop the author's running broadcasts)."""
    return _STOP.fullmatch(text) is not None


def parse_announce(text: str, entities: Sequence[TextEntity] = ()) -> Announce:
    """The announcement a ``/announce ...`` message asks for, else :class:`AnnounceRefused`."""
    match = _ANNOUNCE.fullmatch(text)
    if match is None or match["body"] is None:
        raise AnnounceRefused("broadcast.usage")
    recipients = None if match["ids"] is None else _recipients(match["ids"])
    body = match["body"]
    length = utf16_len(body)
    if length > policy.MAX_TEXT_UTF16:
        raise AnnounceRefused("broadcast.too_long", length=length, limit=policy.MAX_TEXT_UTF16)
    offset = utf16_len(text[: match.start("body")])
    return Announce(body, body_entities(entities, offset, length), recipients)
