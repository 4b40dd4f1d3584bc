"""One record PostgreSQL cannot take never halts the projector: text with U+0000 is written
safely, a record still refused goes to the .dlq twin with its reason while the others go on,
and a rebuild (verify) skips the same records and reports them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import asyncpg
import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from projection_helpers import expected_counts, produce, wait_positions

from devkit.scenario import Scenario
from events import files, payments, thread
from events.catalog import PAYMENTS_EVENTS, THREAD_EVENTS, all_topics
from events.codec import codec_for
from events.envelope import new_envelope
from events.samples import sample
from infra.endpoints import Endpoints
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.topic_admin import ensure_topics
from infra.postgres import quote_schema
from infra.projector.replay import replay
from infra.projector.runner import run_projector
from infra.projector.verify import verify
from projections.safe_text import JSON_COLUMNS, REPLACEMENT

NUL = "\x00"


def _env(key: str) -> dict[str, Any]:
    return dict(new_envelope(key=key, producer="test"))


def _poisoned_thread_records(key: str) -> list[tuple[Any, Any]]:
    """A topic title, a file name and model output holding U+0000."""
    opened = msgspec.structs.replace(sample(thread.ThreadOpened, key=key), **_env(key))
    titled = msgspec.structs.replace(
        sample(thread.TopicNamed, key=key), **_env(key), title=f"Plan{NUL}B"
    )
    received = msgspec.structs.replace(
        sample(files.FileReceived, key=key),
        **_env(key),
        file_id=str(uuid.uuid4()),
        file_name=f"notes{NUL}.txt",
    )
    answer = sample(thread.AssistantMessageCompleted, key=key)
    answer = msgspec.structs.replace(
        answer, **_env(key), text=f"model said{NUL}this", telegram_message_ids=[987654]
    )
    return [(THREAD_EVENTS, r) for r in (opened, titled, received, answer)]


def _unappliable_payment(user_id: int) -> Any:
    """A payment whose Stars amount does not fit the ``integer`` column."""
    return msgspec.structs.replace(
        sample(payments.PaymentSucceeded, key=str(user_id)),
        **_env(str(user_id)),
        user_id=user_id,
        telegram_payment_charge_id="too-many-stars",
        stars=2**40,
    )


def _good_payment(user_id: int, charge: str) -> Any:
    return msgspec.structs.replace(
        sample(payments.PaymentSucceeded, key=str(user_id)),
        **_env(str(user_id)),
        user_id=user_id,
        telegram_payment_charge_id=charge,
        stars=50,
    )


async def _produce_unmappable(stack: Endpoints, profile: BrokerProfile, prefix: str) -> None:
    """A thread event whose key is not a chat key (written past the codec's key check)."""
    good = sample(thread.UserMessageRejected, key="-1009:77")
    _key, _value, headers = codec_for(THREAD_EVENTS).encode(good)
    bad = msgspec.structs.replace(good, **{**_env("-1009:77"), "key": "not-a-chat:1"})
    producer = make_producer(stack.kafka_bootstrap, profile)
    await producer.start()
    try:
        await producer.send_and_wait(
            prefix + THREAD_EVENTS.name, msgspec.json.encode(bad), key=b"-1009:77", headers=headers
        )
    finally:
        await producer.stop()


async def _read_dlq(stack: Endpoints, topic: str, count: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.kafka_bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PAYMENTS_EVENTS.partitions)])
        records: list[Any] = []
        async with asyncio.timeout(30):
            while len(records) < count:
                for part in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(part)
        return records
    finally:
        await consumer.stop()


async def test_unsafe_text_is_applied_and_a_refused_record_is_dead_lettered(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str, topic_prefix: str
) -> None:
    """U+0000 in a title, a file name and model output is written as U+FFFD; a payment
    PostgreSQL refuses is parked in .dlq and listed, the records around it are applied, the
    positions reach the end, and verify (live == rebuild) passes and reports it."""
    await ensure_topics(stack.kafka_bootstrap, all_topics(), name_prefix=topic_prefix)
    items: list[tuple[Any, Any]] = list(Scenario(5, users=5).records(150))
    items += _poisoned_thread_records("-1009:77")
    items += [
        (PAYMENTS_EVENTS, _good_payment(4242, "before")),
        (PAYMENTS_EVENTS, _unappliable_payment(4242)),
        (PAYMENTS_EVENTS, _good_payment(4242, "after")),
    ]
    await produce(stack, broker_profile, topic_prefix, items)
    await _produce_unmappable(stack, broker_profile, topic_prefix)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_projector(
            stack,
            None,
            stop,
            topic_prefix=topic_prefix,
            schema=pg_schema,
            profile=broker_profile,
            use_redis=False,
        )
    )
    try:
        expected = expected_counts(items)
        expected["threads"] += 1  # the unmappable record
        await wait_positions(stack, pg_schema, expected, timeout=60)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
    s = quote_schema(pg_schema)
    conn = await asyncpg.connect(stack.database_url)
    try:
        title = await conn.fetchval(f"SELECT title FROM {s}.threads WHERE thread_key = '-1009:77'")
        assert title == f"Plan{REPLACEMENT}B"
        name = await conn.fetchval(f"SELECT file_name FROM {s}.files WHERE thread_key = '-1009:77'")
        assert name == f"notes{REPLACEMENT}.txt"
        text = await conn.fetchval(f"SELECT text FROM {s}.messages WHERE message_id = 987654")
        assert text == f"model said{REPLACEMENT}this"
        charges = await conn.fetch(f"SELECT telegram_payment_charge_id FROM {s}.payments")
        assert {"before", "after"} <= {r[0] for r in charges}
        assert "too-many-stars" not in {r[0] for r in charges}
        dead = await conn.fetch(f"SELECT * FROM {s}.projection_dead_letters")
    finally:
        await conn.close()
    assert sorted((d["projection"], d["reason"], d["record_type"]) for d in dead) == [
        ("payments", "apply_failed", "PaymentSucceeded"),
        ("threads", "mapping_failed", "UserMessageRejected"),
    ]
    dead = sorted(dead, key=lambda d: d["projection"])
    assert "int32" in dead[0]["detail"] or "range" in dead[0]["detail"]
    assert dead[1]["detail"].startswith("ValueError")
    (parked,) = await _read_dlq(stack, f"{topic_prefix}{PAYMENTS_EVENTS.name}.dlq", 1)
    headers = {k: v.decode() for k, v in parked.headers}
    assert headers["dlq-reason"] == "apply_failed"
    assert headers["dlq-source-offset"] == str(dead[0]["source_offset"])
    assert headers["dlq-detail"].startswith("projection payments: ")
    assert msgspec.json.decode(parked.value)["telegram_payment_charge_id"] == "too-many-stars"

    report = await verify(
        stack, schema=pg_schema, topic_prefix=topic_prefix, profile=broker_profile
    )
    assert report.ok, report.summary()
    assert [(d.projection, d.offset) for d in report.dead_letters] == [
        ("payments", dead[0]["source_offset"]),
        ("threads", dead[1]["source_offset"]),
    ]
    assert "DEAD LETTER: payments: PaymentSucceeded" in report.summary()

    # botctl replay skips them as well, and lists them in the rebuild's own schema ...
    build = f"{pg_schema}_rb"
    result = await replay(
        stack,
        into_schema=build,
        target_schema=pg_schema,
        progress=False,
        topic_prefix=topic_prefix,
        profile=broker_profile,
    )
    assert [(d.projection, d.reason) for d in result.dead_letters] == [
        ("payments", "apply_failed"),
        ("threads", "mapping_failed"),
    ]
    # ... unless asked to retry them: a record still refused fails the rebuild, loudly.
    with pytest.raises((asyncpg.DataError, OverflowError)):
        await replay(
            stack,
            into_schema=build,
            target_schema=pg_schema,
            progress=False,
            topic_prefix=topic_prefix,
            profile=broker_profile,
            retry_dead_letters=True,
        )
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote_schema(build)} CASCADE")
    finally:
        await conn.close()


async def test_json_columns_are_the_jsonb_columns_of_the_migrations(
    stack: Endpoints, pg_schema: str
) -> None:
    """The scrubber knows every jsonb column (a new one is not written unscrubbed)."""
    from infra.migrations import migrate

    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, pg_schema)
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = $1 AND data_type = 'jsonb'",
            pg_schema,
        )
    finally:
        await conn.close()
    found: dict[str, set[str]] = {}
    for r in rows:
        found.setdefault(r["table_name"], set()).add(r["column_name"])
    assert found == {t: set(c) for t, c in JSON_COLUMNS.items()}
