"""``/clear``: who may delete which forum topics, the confirmation it asks for, and its
callback data. Pure; the router (``infra/gateway/routers/topics.py``) does the I/O.

* **Scope.** Sent inside a forum topic, ``/clear`` deletes that topic; sent outside any
  topic (a forum's General topic, a private chat's main view), every topic of the chat the
  bot has a conversation in (Telegram lists no topics to bots, so "every topic" is every
  thread the threads read model knows in that chat).
* **Who.** In a private chat, its user. In a group, a chat administrator (creator or
  administrator, as ``getChatMember`` says) or a privileged user (``PRIVILEGED_USER_IDS``);
  anyone else is refused, and nothing is asked or deleted.
* **Confirmation.** Nothing is deleted before the requester presses *Yes* under a message
  that says what will be deleted; *Cancel* deletes nothing. The buttons carry the
  requester's id and the scope, so only the requester can press them (anyone else gets an
  alert) and no state is kept between the question and the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from actors.texts import Language, say

CALLBACK_PREFIX: Final = "clear:"
ALL_TOPICS: Final = 0
"""The scope "every topic of the chat" (a topic id is never 0)."""
ADMIN_STATUSES: Final = frozenset({"creator", "administrator"})

Answer: TypeAlias = Literal["yes", "no"]


@dataclass(frozen=True, slots=True)
class ClearChoice:
    """A pressed confirmation button: who asked, for which scope, and the answer."""

    requester_id: int
    scope: int
    """A topic's ``message_thread_id``, or :data:`ALL_TOPICS`."""
    answer: Answer


def scope_of(topic_id: int | None) -> int:
    """The scope of a ``/clear`` sent in ``topic_id`` (None: outside any topic)."""
    return topic_id if topic_id else ALL_TOPICS


def may_clear(*, private: bool, member_status: str | None, privileged: bool) -> bool:
    """Whether the sender may delete topics here: a private chat's user, a group's
    administrators and privileged users."""
    return private or privileged or member_status in ADMIN_STATUSES


def callback_data(requester_id: int, scope: int, answer: Answer) -> str:
    """The button's data (under Telegram's 64 bytes: ``clear:<user>:<scope>:<yes|no>``)."""
    return f"{CALLBACK_PREFIX}{requester_id}:{scope}:{answer}"


def parse_callback(data: str | None) -> ClearChoice | None:
    """The choice a button's data names, or None for data that is not a ``/clear`` button."""
    if not data or not data.startswith(CALLBACK_PREFIX):
        return None
    parts = data[len(CALLBACK_PREFIX) :].split(":")
    if len(parts) != 3 or parts[2] not in ("yes", "no"):
        return None
    try:
        requester, scope = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    if requester <= 0 or scope < 0:
        return None
    answer: Answer = "yes" if parts[2] == "yes" else "no"
    return ClearChoice(requester, scope, answer)


def targets(scope: int, known_topics: list[int]) -> list[int]:
    """The topic ids a confirmed ``/clear`` deletes."""
    if scope != ALL_TOPICS:
        return [scope]
    return sorted({topic for topic in known_topics if topic > 0})


@dataclass(frozen=True, slots=True)
class ClearOutcome:
    """What deleting the targets did: deleted (or already gone), and failures with why."""

    deleted: tuple[int, ...] = ()
    failed: tuple[tuple[int, str], ...] = ()


# --------------------------------------------------------------------------- texts


def confirm_text(language: Language, scope: int, count: int) -> str:
    """The question under which Yes / Cancel are shown: it says what will be deleted."""
    if scope != ALL_TOPICS:
        return say(language, "clear.confirm_one")
    return say(language, "clear.confirm_all", count=count)


def outcome_text(language: Language, outcome: ClearOutcome) -> str:
    """The answer after Yes: how many topics were deleted, and which could not be and why."""
    lines = [say(language, "clear.deleted", count=len(outcome.deleted))]
    lines += [say(language, "clear.not_deleted", topic=t, why=why) for t, why in outcome.failed]
    return "\n".join(lines)
