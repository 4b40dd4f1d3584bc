"""Forum topics /clear deleted leave a chat's topics in the threads read model (the real
projector on PostgreSQL), and a replay of the log gives the same rows (verify)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from projection_helpers import create_topics, produce, projecting

from events import catalog, thread
from events.envelope import Envelope, new_envelope
from events.keys import thread_key
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.postgres import create_pool, quote_schema
from infra.projector.verify import verify
from infra.projector.views import ReadModelViews

GROUP = -1_006_150_001
ADMIN = 6_150_001


def _opened(topic: int) -> thread.ThreadOpened:
    return thread.ThreadOpened(
        **new_envelope(key=thread_key(GROUP, topic), producer="thread-actor"),
        chat_id=GROUP,
        message_thread_id=topic,
        chat_type="supergroup",
        is_forum=True,
        opened_by_user_id=ADMIN,
    )


def _reset(topic: int, *, deleted: bool) -> thread.ConversationReset:
    return thread.ConversationReset(
        **new_envelope(key=thread_key(GROUP, topic), producer="thread-actor"),
        requested_by_user_id=ADMIN,
        by_admin=True,
        topic_deleted=deleted,
    )


def _records() -> list[tuple[Any, Envelope]]:
    """Topics 11..14: 12 deleted; 13 only reset (/new); 14 deleted, then a message under the
    same id opened it again."""
    log: list[Envelope] = [_opened(t) for t in (11, 12, 13, 14)]
    log += [_reset(12, deleted=True), _reset(13, deleted=False), _reset(14, deleted=True)]
    log.append(_opened(14))
    return [(catalog.THREAD_EVENTS, e) for e in log]


async def test_deleted_topics_leave_the_chat_topics_and_replay_agrees(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str
) -> None:
    """After a topic_deleted reset the topic is no longer among the chat's topics (a later
    all-topics /clear does not count it again); a plain reset keeps it, a reopened topic is
    listed again; the row says when it was deleted, and verify (replay = live) passes."""
    prefix = f"d{uuid.uuid4().hex[:8]}."
    await create_topics(stack, prefix)
    items = _records()
    await produce(stack, broker_profile, prefix, items)
    async with projecting(stack, broker_profile, prefix, pg_schema, items):
        pass
    pool = await create_pool(stack.database_url, min_size=1, max_size=2)
    try:
        assert await ReadModelViews(pool, None, schema=pg_schema).chat_topics(GROUP) == [
            11,
            13,
            14,
        ]
        conn: asyncpg.Connection
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT message_thread_id, deleted_at, reset_at FROM"
                f" {quote_schema(pg_schema)}.threads WHERE chat_id = $1",
                GROUP,
            )
        deleted = {r["message_thread_id"]: r["deleted_at"] for r in rows}
        assert deleted[12] is not None
        assert deleted[12] == _reset_time(rows, 12)
        assert [deleted[11], deleted[13], deleted[14]] == [None, None, None]
    finally:
        await pool.close()
    report = await verify(stack, schema=pg_schema, topic_prefix=prefix, profile=broker_profile)
    assert report.ok, report.summary()


def _reset_time(rows: list[asyncpg.Record], topic: int) -> Any:
    return next(r["reset_at"] for r in rows if r["message_thread_id"] == topic)
