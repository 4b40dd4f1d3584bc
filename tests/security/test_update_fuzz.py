"""Hypothesis-generated and malformed Telegram updates through the gateway's webhook endpoint.

Odd unicode, huge texts, missing fields, unknown update kinds, wrong types: the endpoint
answers every one 200 (handled, or ignored by design) or 400 (not an Update at all), never
500 (which tells Telegram to deliver the update again, forever, for a body that will never
parse), no handler fails, and the gateway still carries an ordinary message afterwards.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from security_webhook import Webhook

from devkit.emulators.telegram import TelegramEmulator
from events.catalog import THREAD_INBOX

USER = 5557001
_ids = itertools.count(1)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
ODD_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=4000, max_size=40_000),
    st.sampled_from(
        [
            "",
            "\u0000\u0000",
            "\u202eevil\u202c",
            "🧪" * 5000,
            "a\u0301" * 3000,
            "/start",
            "/pay 1e999999999",
            "/pay -5",
            "/refund " + "x" * 5000,
            "/topup @nobody 1e9",
            "/set_margin NaN",
            "/model " + "\U0001f600" * 10,
            "/" + "b" * 200,
        ]
    ),
)
MESSAGE_FIELDS = ("message_id", "date", "chat", "from", "text")


def _message(text: str) -> dict[str, Any]:
    return {
        "message_id": next(_ids),
        "date": 1767225600,
        "chat": {"id": USER, "type": "private", "first_name": "Fuzz"},
        "from": {"id": USER, "is_bot": False, "first_name": "Fuzz", "language_code": "en"},
        "text": text,
    }


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    """A Telegram update: well formed with odd text, missing fields, wrong types, or of a
    kind the bot does not know."""
    message = _message(draw(ODD_TEXT))
    shape = draw(st.sampled_from(["odd_text", "missing", "wrong_type", "unknown_kind", "other"]))
    if shape == "missing":
        for field in draw(st.sets(st.sampled_from(MESSAGE_FIELDS), min_size=1)):
            message.pop(field)
    elif shape == "wrong_type":
        message[draw(st.sampled_from(MESSAGE_FIELDS))] = draw(JSON)
    if shape == "unknown_kind":
        return {"update_id": next(_ids), draw(st.text(min_size=1, max_size=30)): draw(JSON)}
    if shape == "other":
        kind = draw(st.sampled_from(["edited_message", "callback_query", "pre_checkout_query"]))
        body = message if kind == "edited_message" else draw(JSON)
        return {"update_id": next(_ids), kind: body}
    return {"update_id": next(_ids), "message": message}


# aiogram ignores an update of a kind it does not know with a RuntimeWarning (which this
# suite's filterwarnings would turn into an error): ignored by design.
@pytest.mark.filterwarnings("ignore:Detected unknown update type:RuntimeWarning")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(update=updates())
@example(update={"update_id": 1})
@example(update={"update_id": "one", "message": None})
@example(update={"message": _message("no update id")})
@example(update={"update_id": 2, "message": _message("x" * 200_000)})
async def test_no_update_crashes_the_gateway(
    update: dict[str, Any],
    webhook: Webhook,
    telegram_emulator: TelegramEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every generated update is answered 200 (handled or ignored) or 400 (not an Update),
    never 500, and no handler logs an error."""
    telegram_emulator.add_private_chat(USER)
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        status = await webhook.post(update)
    assert status in (200, 400), update
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.filterwarnings("ignore:Detected unknown update type:RuntimeWarning")
async def test_after_garbage_an_ordinary_message_still_lands_on_the_inbox(
    webhook: Webhook, telegram_emulator: TelegramEmulator
) -> None:
    """Garbage first, then a plain message: the plain message reaches the thread inbox."""
    telegram_emulator.add_private_chat(USER)
    for body in ({"update_id": 1, "message": {"text": 5}}, {"update_id": 2, "x": []}):
        assert await webhook.post(body) in (200, 400)
    assert await webhook.post({"update_id": 3, "message": _message("still here")}) == 200
    texts = [r.message.text for r in await webhook.records(THREAD_INBOX)]
    assert texts == ["still here"]
