"""Classifying a failed model call: error class, what the user reads, whether to retry,
and which usage to report (only what was consumed).

The Claude adapter translates SDK exceptions into a :class:`ModelFailure` (a plain record);
this module decides what it means for the turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

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

PAY_HINT: Final = "Top up with /pay to continue."
MODEL_UNAVAILABLE_MESSAGE: Final = (
    "⚠️ Gemini models are not available on this bot (no Google API key is configured). "
    "Choose a Claude model with /model and send your message again."
)


@dataclass(frozen=True, slots=True)
class ModelFailure:
    """What went wrong, in our terms. ``streamed`` = the response had started."""

    kind: FailureKind
    detail: str = ""
    status: int | None = None
    retry_after: float | None = None
    streamed: bool = False


@dataclass(frozen=True, slots=True)
class FailureVerdict:
    error_class: str  # one of events.thread.TURN_ERROR_CLASSES
    user_message: str
    retryable: bool
    report_partial_usage: bool


def _wait_hint(retry_after: float | None) -> str:
    if retry_after is None or retry_after <= 0:
        return "Please try again in a minute."
    seconds = max(1, round(retry_after))
    return f"Please try again in {seconds} s."


def classify(failure: ModelFailure) -> FailureVerdict:
    """The verdict for a failure; partial usage is reported only if a response had started."""
    partial = failure.streamed
    kind = failure.kind
    if kind == "rate_limited":
        return FailureVerdict(
            "rate_limited",
            "⚠️ Claude is receiving too many requests right now. " + _wait_hint(failure.retry_after),
            True,
            partial,
        )
    if kind == "overloaded":
        return FailureVerdict(
            "overloaded",
            "⚠️ Claude is overloaded at the moment. Please try again shortly.",
            True,
            partial,
        )
    if kind == "prompt_too_long":
        return FailureVerdict(
            "context_overflow",
            "⚠️ This conversation no longer fits in the model's context window. "
            "Send /new to start a fresh conversation.",
            False,
            False,
        )
    if kind == "file_too_large":  # refused before any call: detail is the user's message
        return FailureVerdict("context_overflow", f"⚠️ {failure.detail}", False, False)
    if kind == "invalid_request":
        return FailureVerdict(
            "invalid_request",
            "⚠️ Claude could not accept this request"
            + (f": {failure.detail[:200]}" if failure.detail else ".")
            + " Try rephrasing, or /new to start over.",
            False,
            partial,
        )
    if kind == "timeout":
        return FailureVerdict(
            "timeout",
            "⚠️ Claude took too long to answer. Please try again.",
            True,
            partial,
        )
    if kind == "stream_broken":
        return FailureVerdict(
            "stream_broken",
            "⚠️ The connection to Claude broke while answering. The partial answer is above; "
            "please try again.",
            True,
            partial,
        )
    if kind == "telegram":
        return FailureVerdict(
            "telegram_error",
            "⚠️ Telegram refused the answer. Please try again.",
            True,
            partial,
        )
    if kind == "model_unavailable":
        return FailureVerdict("invalid_request", MODEL_UNAVAILABLE_MESSAGE, False, False)
    if kind == "auth":
        return FailureVerdict(
            "api_error", "⚠️ The bot cannot reach Claude right now (configuration).", False, False
        )
    if kind == "internal":
        return FailureVerdict(
            "internal", "⚠️ Something went wrong on our side. Please try again.", True, partial
        )
    return FailureVerdict(
        "api_error", "⚠️ Claude answered with an error. Please try again.", True, partial
    )


INTERRUPTED_MESSAGE: Final = (
    "⚠️ The answer was interrupted by a restart of the bot. Please send your message again."
)
INSUFFICIENT_BALANCE_MESSAGE: Final = "💳 Your balance is used up. " + PAY_HINT
CONCURRENCY_MESSAGE: Final = (
    "⏳ You already have {limit} answers being generated. Wait for one to finish, or /stop it."
)
QUEUED_MESSAGE: Final = (
    "⏳ You already have {limit} answers being generated. This one waits in line and starts "
    "as soon as one finishes (up to {minutes} min); /stop cancels it."
)
NOTHING_TO_STOP_MESSAGE: Final = "Nothing is being generated right now."
