"""Classifying a failed model call: error class, what the user reads (in their language),
whether to retry, and which usage to report (only what was consumed); and the thread's other
notices (refusals, the queue, a restart).

The Claude adapter translates SDK exceptions into a :class:`ModelFailure` (a plain record);
this module decides what it means for the turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, TypeAlias

from actors.billing.policy import format_usd
from actors.texts import Language, say

FailureKind: TypeAlias = Literal[
    "rate_limited",
    "overloaded",
    "prompt_too_long",
    "file_too_large",
    "invalid_request",
    "auth",
    "model_unavailable",
    "timeout",
    "stream_broken",
    "api_error",
    "telegram",
    "internal",
]


@dataclass(frozen=True, slots=True)
class ModelFailure:
    """What went wrong, in our terms. ``streamed`` = the response had started."""

    kind: FailureKind
    detail: str = ""
    status: int | None = None
    retry_after: float | None = None
    streamed: bool = False
    tokens: int = 0
    """``file_too_large``: the tokens the input's files take, the room left for them, and
    how many files there are."""
    room: int = 0
    files: int = 0


@dataclass(frozen=True, slots=True)
class FailureVerdict:
    error_class: str  # one of events.thread.TURN_ERROR_CLASSES
    user_message: str
    retryable: bool
    report_partial_usage: bool


def _wait_hint(language: Language, retry_after: float | None) -> str:
    if retry_after is None or retry_after <= 0:
        return say(language, "thread.wait_minute")
    return say(language, "thread.wait_seconds", seconds=max(1, round(retry_after)))


def _user_message(language: Language, failure: ModelFailure) -> str:
    """What the user reads about ``failure`` (``error.<kind>``)."""
    kind = failure.kind
    if kind == "rate_limited":
        return say(language, "error.rate_limited", wait=_wait_hint(language, failure.retry_after))
    if kind == "prompt_too_long":
        return say(language, "error.context_overflow")
    if kind == "file_too_large":
        tokens, room = f"{failure.tokens:,}", f"{max(0, failure.room):,}"
        if failure.files > 1:
            return say(
                language, "error.files_too_large", count=failure.files, tokens=tokens, room=room
            )
        return say(language, "error.file_too_large", tokens=tokens, room=room)
    if kind == "invalid_request" and failure.detail:
        return say(language, "error.invalid_request_detail", detail=failure.detail[:200])
    if kind in KNOWN_KINDS:
        return say(language, f"error.{kind}")
    return say(language, "error.api_error")


_ERROR_CLASSES: Final[dict[str, tuple[str, bool]]] = {
    "rate_limited": ("rate_limited", True),
    "overloaded": ("overloaded", True),
    "prompt_too_long": ("context_overflow", False),
    "file_too_large": ("context_overflow", False),
    "invalid_request": ("invalid_request", False),
    "timeout": ("timeout", True),
    "stream_broken": ("stream_broken", True),
    "telegram": ("telegram_error", True),
    "auth": ("api_error", False),
    "model_unavailable": ("invalid_request", False),
    "internal": ("internal", True),
}
"""Per failure kind: the turn's error class and whether a retry may help."""

KNOWN_KINDS: Final = frozenset(
    {
        "overloaded",
        "invalid_request",
        "timeout",
        "stream_broken",
        "telegram",
        "auth",
        "model_unavailable",
        "internal",
    }
)
"""Kinds with a text of their own (``error.<kind>``) and no values."""

_NO_PARTIAL: Final = frozenset({"prompt_too_long", "file_too_large", "auth", "model_unavailable"})
"""Failures before anything was consumed: no partial usage to report."""


def classify(language: Language, failure: ModelFailure) -> FailureVerdict:
    """The verdict for a failure, worded in ``language``; partial usage is reported only if
    a response had started."""
    error_class, retryable = _ERROR_CLASSES.get(failure.kind, ("api_error", True))
    partial = failure.streamed and failure.kind not in _NO_PARTIAL
    return FailureVerdict(error_class, _user_message(language, failure), retryable, partial)


def interrupted_message(language: Language) -> str:
    """A turn cut off by a restart of the bot."""
    return say(language, "thread.interrupted")


def concurrency_message(language: Language, limit: int) -> str:
    return say(language, "thread.concurrency", limit=limit)


def queued_message(language: Language, limit: int, minutes: int) -> str:
    return say(language, "thread.queued", limit=limit, minutes=minutes)


def nothing_to_stop_message(language: Language) -> str:
    return say(language, "thread.nothing_to_stop")


def balance_refusal(language: Language, balance: Decimal | None) -> str:
    """Why a request may not start for want of balance (see
    :func:`actors.billing.policy.may_start_request`), with how to top up."""
    if balance is None:
        reason = say(language, "balance_refusal.none")
    elif not balance.is_finite():
        reason = say(language, "balance_refusal.unreadable")
    else:
        reason = say(language, "balance_refusal.empty", balance=format_usd(balance))
    return say(language, "thread.balance_refused", reason=reason)
