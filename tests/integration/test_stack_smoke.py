"""The app's own adapters against the real broker, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka.admin import NewTopic

from infra.endpoints import Endpoints
from infra.kafka.clients import make_admin, make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.postgres import create_pool
from infra.redis_store import create_redis


async def test_topic_produce_and_consume_with_a_group(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """A created topic carries records from our producer to a consumer group, in key order."""
    topic = f"{topic_prefix}smoke"
    admin = make_admin(stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, f"value-{i}".encode(), key=b"user-1")
    finally:
        await producer.stop()
    consumer = make_consumer(
        stack.kafka_bootstrap, broker_profile, [topic], group_id=f"g-{uuid.uuid4().hex[:6]}"
    )
    await consumer.start()
    try:
        seen: list[bytes] = []
        async with asyncio.timeout(30):
            while len(seen) < 5:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    seen.extend(r.value for r in records)
        await consumer.commit()
    finally:
        await consumer.stop()
    assert seen == [f"value-{i}".encode() for i in range(5)]


async def test_sql_statement_in_a_private_schema(stack: Endpoints, pg_schema: str) -> None:
    """A pool confined to a schema creates and reads its tables there."""
    pool = await create_pool(stack.database_url, schema=pg_schema)
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE smoke (id int primary key, note text)")
            await conn.execute("INSERT INTO smoke VALUES (1, 'hello')")
            assert await conn.fetchval("SELECT note FROM smoke WHERE id = 1") == "hello"
            assert await conn.fetchval("SELECT current_schema()") == pg_schema
    finally:
        await pool.close()


async def test_redis_key_round_trip(stack: Endpoints) -> None:
    """A value written to Redis reads back byte for byte."""
    client = create_redis(stack.redis_url)
    try:
        key = f"smoke:{uuid.uuid4().hex}"
        await client.set(key, b"\x00value", ex=60)
        assert await client.get(key) == b"\x00value"
    finally:
        await client.aclose()
