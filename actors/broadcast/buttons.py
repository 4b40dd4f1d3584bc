"""The Send / Cancel buttons under an announcement's preview, and the Stop button under a
running broadcast's messages to its author: their callback data.

``ann:<send|cancel|stop>:<author id>:<announcement id>`` (at most 63 bytes, Telegram allows 64).
The author is in the data so the gateway refuses another user's press without reading the
log; the broadcaster's fold checks it again (only the author's decision counts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

PREFIX: Final = "ann:"
Action: TypeAlias = Literal["send", "cancel", "stop"]
ACTIONS: Final[tuple[Action, ...]] = ("send", "cancel", "stop")
_DATA: Final = re.compile(
    r"ann:(?P<action>send|cancel|stop):(?P<author>[0-9]{1,19}):"
    r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)


@dataclass(frozen=True, slots=True)
class Press:
    action: Action
    author: int
    announcement_id: str


def callback_data(action: Action, author: int, announcement_id: str) -> str:
    return f"{PREFIX}{action}:{author}:{announcement_id}"


def parse_press(data: str | None) -> Press | None:
    """The press ``data`` encodes, or None for anything else."""
    match = _DATA.fullmatch(data or "")
    if match is None:
        return None
    action = next(a for a in ACTIONS if a == match["action"])
    return Press(action, int(match["author"]), match["id"])
