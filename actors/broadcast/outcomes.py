"""What a Telegram answer to one broadcast send means for its recipient.

* success -> ``sent``;
* 403 (the user blocked the bot, deleted their account, never started it) -> ``blocked``:
  final, never retried;
* 429 -> ``retry`` after ``retry_after`` (nothing was sent), up to ``MAX_ATTEMPTS``;
* any other refusal (400 chat not found, ...) -> ``failed``: final;
* no answer (a network error, a timeout, a 5xx): the message may have gone out -> ``failed``
  with the outcome unknown, not retried, so nobody gets it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from actors.broadcast import policy

Verdict: TypeAlias = Literal["sent", "blocked", "failed", "retry"]
Answer: TypeAlias = Literal["ok", "forbidden", "flood", "refused", "no_answer"]
"""How Telegram answered, as the sender's adapter translates its errors."""


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    outcome_unknown: bool = False


def judge(answer: Answer, attempt: int) -> Judgement:
    """The verdict on attempt ``attempt`` (1-based) answered ``answer``."""
    if answer == "ok":
        return Judgement("sent")
    if answer == "forbidden":
        return Judgement("blocked")
    if answer == "flood":
        return Judgement("retry" if attempt < policy.MAX_ATTEMPTS else "failed")
    if answer == "no_answer":
        return Judgement("failed", outcome_unknown=True)
    return Judgement("failed")
