"""Gemini models are offered only where a Google client is configured, and a turn that
needs one without it is refused with a clear message, not as a configuration failure."""

from __future__ import annotations

from actors.texts import say
from actors.thread.errors import ModelFailure, classify
from actors.thread.models import GEMINI_PRO, HAIKU, MODELS, OPUS, SONNET, offered_models


def test_without_google_only_claude_models_are_offered() -> None:
    """The /model menu follows the configured providers, in registry order."""
    assert offered_models(frozenset({"anthropic"})) == (HAIKU, SONNET, OPUS)
    every = offered_models(frozenset({"anthropic", "google"}))
    assert every == tuple(MODELS)
    assert GEMINI_PRO in every


def test_an_unavailable_model_is_a_clear_refusal() -> None:
    """Not retried, nothing charged, the user told to choose another model."""
    verdict = classify("en", ModelFailure("model_unavailable", "no google client"))
    assert verdict.user_message == say("en", "error.model_unavailable")
    assert "/model" in verdict.user_message
    assert (verdict.retryable, verdict.report_partial_usage) == (False, False)
    assert verdict.error_class == "invalid_request"
