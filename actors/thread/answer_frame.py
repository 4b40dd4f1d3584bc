"""The final answer as it is sent, recorded as a frame around the turn's text.

The message that shows a turn's answer is its steps' text with the turn's trace line before
it and its sources (and a cap note) after it. The last call's event records only that frame
(``before``, ``after``): the text itself is in the steps' events already, and an answer of
tens of thousands of tokens recorded once more would not fit the thread's state record. A
worker that takes an answered turn over rebuilds the message from the frame and the text.
"""

from __future__ import annotations

from typing import Final, NamedTuple

NO_ANSWER: Final = "(no answer)"
"""What an answer with no text shows (a turn whose model said nothing)."""


class AnswerFrame(NamedTuple):
    before: str
    after: str


NO_FRAME: Final = AnswerFrame("", "")


def answer_frame(parts: tuple[str, str, str], text: str) -> AnswerFrame:
    """The frame of a message sent as ``parts`` (before, the answer stripped, after) for the
    turn's ``text``: the answer is ``text`` with anything after it (a cap note), so ``text``
    stripped is where it starts, and :func:`framed` gives the message back."""
    before, core, after = parts
    body = text.strip()
    if not core.startswith(body):
        raise ValueError("the answer does not start with the turn's text")
    return AnswerFrame(before, core[len(body) :] + after)


def framed(text: str, frame: AnswerFrame) -> str:
    """The message showing the turn's ``text`` in ``frame`` (:data:`NO_ANSWER` if empty)."""
    shown = frame.before + text.strip() + frame.after
    return shown if shown.strip() else NO_ANSWER
