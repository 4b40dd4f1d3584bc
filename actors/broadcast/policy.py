"""The broadcast's rules, each constant beside its reason."""

from __future__ import annotations

from typing import Final

SENDS_PER_SECOND: Final = 25
"""Broadcast sends started in any one-second window, at most. Telegram allows about 30
messages a second per bot overall; 25 leaves room for the bot's other messages (answers,
the owner's progress) and for network jitter bunching sends at Telegram's end."""
MAX_SENDS_PER_SECOND: Final = 30
"""Telegram's overall limit per bot; ``BROADCAST_SENDS_PER_SECOND`` above it is refused."""
WINDOW_SECONDS: Final = 1.0
"""The window :data:`SENDS_PER_SECOND` is counted over."""
IN_FLIGHT: Final = 4
"""Sends awaiting Telegram's answer at once: enough for the rate at ~150 ms a call, and the
most recipients a crash can leave with an unknown outcome."""
MAX_ATTEMPTS: Final = 5
"""Attempts per recipient answered 429 before it is counted failed (each waits the
``retry_after`` Telegram asked for)."""
MAX_RETRY_AFTER_S: Final = 300
"""Longest pause honoured for one 429 (a longer one is waited in steps of this)."""
CHUNK_SIZE: Final = 5_000
"""User ids per ``broadcast.recipients_listed`` record (about 60 KB: far below Kafka's 1 MB
message limit however many users the bot has)."""
PROGRESS_EVERY_S: Final = 30.0
"""Seconds between two progress messages to the owner while a broadcast runs."""
MAX_LISTED: Final = 1_000
"""User ids ``/announce to:...`` takes (a Telegram message holds about 400 of 10 digits)."""
MAX_TEXT_UTF16: Final = 4096
"""Telegram's limit for one message's text."""
