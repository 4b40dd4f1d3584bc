"""Without a Google API key, a turn on a Gemini model is refused with a clear message
(before any call, nothing charged), not reported as a configuration ("auth") failure."""

from __future__ import annotations

from actors.texts import say
from actors.thread.models import GEMINI_FLASH_LITE
from devkit.harness.thread import Harness, billing_commands, message_command, thread_events
from devkit.harness.topics import eventually
from events.thread import TurnFailed
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile


async def test_a_gemini_turn_without_a_google_key_is_refused_clearly(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """The user's model is Gemini Flash-Lite and the worker has no Google client: the turn
    fails as ``invalid_request`` with the "not available, choose a Claude model" notice, no
    model call is made and nothing is charged."""
    h = harness
    cid = 7901
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    prefs = h.actor.preferences
    prefs.users.setdefault(cid, type(prefs.get(cid))()).model = GEMINI_FLASH_LITE  # type: ignore[attr-defined]
    cmd = message_command(cid, "hello gemini?", message_id=1)
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked)
    assert [m.text for m in h.telegram.bot_messages(cid)] == [say("en", "error.model_unavailable")]
    assert not h.claude.message_requests()
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    [failed] = [e for e in events if isinstance(e, TurnFailed)]
    assert failed.error_class == "invalid_request"
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert not [c for c in charges if getattr(c, "source", None) == "turn_failed"]
