"""The thread actor speaks the user's language: its notices, refusals and the turn it starts
(recorded in thread.turn_started, so its run and a resumed run speak it too)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from thread_builders import stop, user_message

from actors.texts import LANGUAGES, Language, recorded_language, say
from actors.thread.decide import MAX_CONCURRENT_GENERATIONS, Facts, decide
from actors.thread.errors import ModelFailure, classify
from actors.thread.progress import TurnTrace
from actors.thread.state import initial_state
from events.messages import Attachment


@pytest.mark.parametrize("language", LANGUAGES)
def test_notices_are_in_the_users_language(language: Language) -> None:
    """Refusals (balance, concurrency, unreadable input) and /stop's notice in ``language``;
    the English prose of the rejection stays in the event for operators."""
    cmd = user_message("hi")
    poor = decide(initial_state(cmd.key), cmd, Facts(balance=Decimal(0), language=language))
    assert poor.notices[0].text == say(
        language,
        "thread.balance_refused",
        reason=say(language, "balance_refusal.empty", balance="0.00"),
    )
    busy = Facts(balance=Decimal(1), other_running=MAX_CONCURRENT_GENERATIONS, language=language)
    crowded = decide(initial_state(cmd.key), cmd, busy)
    assert crowded.notices[0].text == say(
        language, "thread.concurrency", limit=MAX_CONCURRENT_GENERATIONS
    )
    exe = Attachment(kind="document", file_id="e", file_unique_id="eu", file_name="setup.exe")
    program = user_message("", attachments=(exe,))
    funded = Facts(balance=Decimal(1), language=language)
    refused = decide(initial_state(program.key), program, funded)
    reason = say(language, "unreadable.program", label="setup.exe")
    assert refused.notices[0].text == say(language, "thread.unreadable", detail=reason)
    idle = decide(initial_state("4242:0"), stop(), funded)
    assert idle.notices[0].text == say(language, "thread.nothing_to_stop")


def test_a_turn_records_its_language() -> None:
    """thread.turn_started names the language; its failure and progress are worded in it."""
    cmd = user_message("привет")
    decision = decide(initial_state(cmd.key), cmd, Facts(balance=Decimal(1), language="ru"))
    assert decision.start is not None
    language = recorded_language(decision.start.language)
    assert language == "ru"
    verdict = classify(language, ModelFailure("overloaded"))
    assert verdict.user_message == say("ru", "error.overloaded")
    trace = TurnTrace(language=language)
    trace.add_thinking("hmm")
    trace.tool_started("t1", "web_search", "x")
    trace.tool_finished("t1", ok=False)
    assert say("ru", "progress.thinking") in trace.draft_header().text
    assert say("ru", "progress.failed") in trace.draft_header().text
    assert trace.summary().startswith(say("ru", "progress.thought"))


def test_a_turn_recorded_before_languages_speaks_english() -> None:
    """A turn_started without a language (older records) is English."""
    assert recorded_language(None) == "en"
    assert recorded_language("xx") == "en"
