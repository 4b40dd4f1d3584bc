"""Topic catalog, keys, ids and envelope helpers."""

from __future__ import annotations

import typing
import uuid
from datetime import UTC, datetime

import msgspec
import pytest

from events.catalog import TOPICS, all_topics, record_types, topic_named, topic_of, with_prefix
from events.envelope import caused_by, event_type, new_envelope, payload_digest, schema_version
from events.ids import derived_id, new_id, new_uuid7, uuid7_time
from events.keys import ThreadKey, is_valid_key, thread_key, user_key
from events.legacy import LEGACY_TYPES
from events.money import usd
from events.samples import sample
from events.thread import StopRequested, TurnStarted
from events.usage import ToolQuantities, Usage

EXPECTED_TOPICS = {
    "bot.thread.inbox": "thread",
    "bot.thread.events": "thread",
    "bot.users.commands": "user",
    "bot.users.events": "user",
    "bot.billing.commands": "user",
    "bot.billing.ledger": "user",
    "bot.payments.events": "user",
    "bot.admin.events": "global",
    "bot.billing.snapshots": "user",
    "bot.broadcast.events": "global",
}


def test_topic_names_and_keys_are_the_public_catalog() -> None:
    """The stable topic names and their key kinds; each has a .dlq twin."""
    assert {t.name: t.key_kind for t in TOPICS} == EXPECTED_TOPICS
    names = {t.name for t in all_topics()}
    assert names == set(EXPECTED_TOPICS) | {n + ".dlq" for n in EXPECTED_TOPICS}
    assert topic_named("bot.billing.ledger.dlq").dead_letter_of == "bot.billing.ledger"


def test_topics_have_infinite_retention_delete_policy_and_partitions() -> None:
    """Every topic and dead-letter topic keeps records forever; the billing snapshots are
    compacted (the newest per user is all a start needs)."""
    for spec in all_topics():
        policy = "compact" if spec.name.startswith("bot.billing.snapshots") else "delete"
        assert spec.configs() == {"retention.ms": "-1", "cleanup.policy": policy}
        assert spec.partitions == (1 if spec.key_kind == "global" else 12)


def test_tags_are_unique_and_every_type_declares_a_literal_version() -> None:
    """No tag is on two topics; every class narrows `v` to Literal[n] = n."""
    types = record_types()
    assert len(types) == sum(len(t.record_types) for t in TOPICS)
    for cls in (*types.values(), *LEGACY_TYPES):
        hint = typing.get_type_hints(cls)["v"]
        assert typing.get_origin(hint) is typing.Literal, cls
        assert typing.get_args(hint) == (schema_version(cls),), cls
        assert cls.__struct_config__.frozen
        assert cls.__struct_config__.tag_field == "type"


def test_topic_of_and_prefix() -> None:
    """A tag maps to its topic; a prefix renames a topic and its dead-letter origin."""
    assert topic_of("thread.turn_started").name == "bot.thread.events"
    dlq = with_prefix(topic_named("bot.thread.events.dlq"), "t1-")
    assert (dlq.name, dlq.dead_letter_of) == ("t1-bot.thread.events.dlq", "t1-bot.thread.events")


def test_thread_key_formats_and_parses() -> None:
    """Thread keys are '{chat_id}:{thread or 0}' and parse back."""
    assert thread_key(-1001234, 42) == "-1001234:42"
    assert thread_key(5551234, None) == "5551234:0"
    assert str(ThreadKey.of(5551234, None)) == "5551234:0"
    assert ThreadKey.parse("-1001234:42") == ThreadKey(-1001234, 42)
    with pytest.raises(ValueError):
        ThreadKey.parse("42")
    assert user_key(5551234) == "5551234"
    assert is_valid_key("user", "5551234")
    assert not is_valid_key("user", "-1:0")
    assert is_valid_key("global", "global")
    assert not is_valid_key("global", "x")


def test_uuid7_is_version_7_increasing_and_timed() -> None:
    """Minted ids are canonical v7 UUID strings, strictly increasing, carrying their time."""
    ids = [new_id() for _ in range(5000)]
    assert all(uuid.UUID(i).version == 7 and str(uuid.UUID(i)) == i for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert abs((uuid7_time(ids[-1]) - datetime.now(UTC)).total_seconds()) < 5
    assert new_uuid7().version == 7


def test_derived_id_is_deterministic() -> None:
    """The same (parent, label) always derives the same v7 id; another label another id."""
    parent = new_id()
    assert derived_id(parent, "a") == derived_id(parent, "a")
    assert derived_id(parent, "a") != derived_id(parent, "b")
    assert uuid.UUID(derived_id(parent, "a")).version == 7
    assert uuid7_time(derived_id(parent, "a")) == uuid7_time(parent)


def test_caused_by_chains_correlation_and_causation() -> None:
    """A derived record keeps the correlation id and points at its cause."""
    root = StopRequested(**new_envelope(key="5:0", producer="gateway"), user_id=5)
    assert root.correlation_id == root.id
    assert root.causation_id is None
    env = caused_by(root, producer="thread-actor", label="turn")
    child = TurnStarted(
        **env, turn_id=new_id(), user_id=5, model="m", input_message_ids=(), max_output_tokens=1
    )
    assert (child.causation_id, child.correlation_id, child.key) == (root.id, root.id, "5:0")
    assert caused_by(root, producer="x", label="turn")["id"] == env["id"]


def test_payload_digest_ignores_the_envelope() -> None:
    """Same payload, different envelope: same digest; different payload: different digest."""
    a = sample(StopRequested, key="5:0")
    b = msgspec.structs.replace(a, id=new_id(), occurred_at=datetime.now(UTC))
    c = msgspec.structs.replace(a, user_id=a.user_id + 1)
    assert payload_digest(a) == payload_digest(b) != payload_digest(c)


def test_usage_adds_and_knows_its_cache_write_total() -> None:
    """Usage sums field by field; the cache write total is 5m + 1h."""
    total = Usage(input_tokens=1, cache_creation_5m_input_tokens=2) + Usage(
        cache_creation_1h_input_tokens=3, output_tokens=4
    )
    assert total.cache_creation_input_tokens == 5
    assert total.output_tokens == 4
    assert Usage().is_zero()
    assert ToolQuantities().is_zero()


def test_usd_refuses_non_finite_and_floats() -> None:
    """Money helpers only accept finite decimal amounts."""
    assert usd("1.30") == usd(1) + usd("0.30")
    with pytest.raises(ValueError):
        usd("NaN")
    with pytest.raises(TypeError):
        usd(1.5)  # type: ignore[arg-type]


def test_every_event_type_tag_is_dotted_and_lowercase() -> None:
    """Tags look like '<area>.<snake_case_name>'."""
    for tag in record_types():
        area, _, name = tag.partition(".")
        assert area
        assert name
        assert tag == tag.lower()
        assert " " not in tag
        assert event_type(record_types()[tag]) == tag
