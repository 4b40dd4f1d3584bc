"""aiogram's models built on first use (``infra.telegram_models``) validate exactly as the
ones aiogram builds at import: the same JSON schema, the same parsed updates, the same errors.

Each side runs in an interpreter of its own, since the models are built once per process.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

from aiogram.methods.base import Response
from aiogram.types import Message

from devkit.emulators.testing import running_telegram
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.settings import Secret, Settings

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = Endpoints("127.0.0.1:9", "postgresql://u@127.0.0.1:9/db", "redis://127.0.0.1:9", False)
PROFILE = BrokerProfile("test-cluster", tansu_workarounds=False)
CHAT = 5551234

PROBE = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
if sys.argv[1] == "lazy":
    import infra  # installs the first-use build before aiogram is imported
from aiogram.methods import EditForumTopic, GetUpdates, SendChatAction, SendMessage
from aiogram.types import Message, Update
from pydantic import ValidationError

CHAT = 5551234
user = {"id": 5551234, "is_bot": False, "first_name": "Ada", "language_code": "en"}
forum = {"id": -1001234, "type": "supergroup", "title": "Lab", "is_forum": True}
def message(**fields):
    return {"message_id": 10, "date": 1767225600, "chat": forum, "from": user, **fields}
payment = {"currency": "XTR", "total_amount": 50, "invoice_payload": "topup:1",
           "telegram_payment_charge_id": "ch_1", "provider_payment_charge_id": ""}
photo = [{"file_id": "p", "file_unique_id": "u", "width": 90, "height": 60}]
updates = [
    {"update_id": 1, "message": message(text="hi /start", message_thread_id=42,
        is_topic_message=True, entities=[{"type": "bot_command", "offset": 3, "length": 6}])},
    {"update_id": 2, "message": message(photo=photo, caption="look")},
    {"update_id": 3, "message": message(successful_payment=payment)},
    {"update_id": 4, "callback_query": {"id": "cb", "from": user, "chat_instance": "ci",
        "data": "model:opus", "message": message(text="pick")}},
    {"update_id": 5, "pre_checkout_query": {"id": "q", "from": user, "currency": "XTR",
        "total_amount": 50, "invoice_payload": "topup:1"}},
    {"update_id": 6, "message": message(forum_topic_created={"name": "t", "icon_color": 1})},
    {"update_id": 7, "edited_message": message(text="edited", edit_date=1767225700)},
]
bad = [
    {"update_id": 8, "message": {"message_id": 1, "date": 1767225600}},
    {"update_id": "x", "callback_query": {"id": 5}},
]
out = {"built_before_use": Update.__pydantic_complete__}
out["method_built_before_use"] = SendMessage.__pydantic_complete__
out["updates"] = [
    Update.model_validate(u).model_dump(mode="json", exclude_unset=True) for u in updates
]
errors = []
for u in bad:
    try:
        Update.model_validate(u)
    except ValidationError as exc:
        errors.append(exc.errors(include_url=False, include_context=False))
out["errors"] = errors
out["answer"] = Message.model_validate(message(text="ok")).model_dump(mode="json")
out["schema"] = Update.model_json_schema()
keyboard = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
out["method"] = SendMessage(chat_id=CHAT, text="x", reply_markup=keyboard).model_dump()
try:
    SendMessage(chat_id=None, text=3)
except ValidationError as exc:
    out["method_errors"] = exc.errors(include_url=False, include_context=False)
out["method_schemas"] = [
    m.model_json_schema() for m in (SendMessage, GetUpdates, SendChatAction, EditForumTopic)
]
print(json.dumps(out, sort_keys=True, default=str))
"""


def probe(mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_models_built_on_first_use_validate_as_the_ones_built_at_import() -> None:
    """With ``infra`` imported first, aiogram's Update and its Bot API methods are not built
    at import but on their first use, and parse updates, validate method calls, report errors
    and describe themselves exactly as when aiogram builds every model at import."""
    lazy = probe("lazy")
    eager = probe("eager")
    assert lazy.pop("built_before_use") is False
    assert eager.pop("built_before_use") is True
    assert lazy.pop("method_built_before_use") is False
    assert eager.pop("method_built_before_use") is True
    assert lazy["method"]["text"] == "x"
    assert lazy["method_errors"]
    assert lazy["updates"][0]["message"]["text"] == "hi /start"
    assert len(lazy["errors"]) == 2
    assert all(lazy["errors"])
    assert lazy == eager


async def test_the_response_model_of_a_result_type_outlives_the_call() -> None:
    """After a Bot API call through the root's Bot, the ``Response[Message]`` model aiogram
    parsed the answer with survives a garbage collection, so the next call of the kind does
    not build it again."""
    async with running_telegram() as telegram:
        telegram.add_private_chat(CHAT)
        settings = Settings(
            telegram_bot_token=Secret(telegram.token), telegram_api_url=telegram.base_url
        )
        root = Root(settings, ENDPOINTS, profile=PROFILE)
        try:
            await root.bot().send_message(CHAT, "first")
            gc.collect()
            model = weakref.ref(Response[Message])
            gc.collect()
            assert model() is not None
            await root.bot().send_message(CHAT, "second")
            assert Response[Message] is model()
        finally:
            await root.close()
