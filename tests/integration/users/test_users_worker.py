"""The users actor on the real broker: registration and starter credit exactly once."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError
from users_helpers import running_worker

from actors.thread.models import HAIKU, OPUS
from devkit.harness.topics import read_at_least, running_publisher
from events.billing import StarterCreditRequested
from events.catalog import BILLING_COMMANDS, USERS_COMMANDS, USERS_EVENTS
from events.envelope import new_envelope
from events.messages import TelegramUser
from events.users import (
    ModelChanged,
    ModelChangeRequested,
    ProfileUpdated,
    RegistrationRequested,
    UserRegistered,
)
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.kafka.topic_admin import ensure_topics
from infra.services.supervisor import botctl_argv
from infra.users.worker import CRASH_AFTER_BILLING, USERS_TOPICS, UsersWorker

ROOT = Path(__file__).resolve().parents[3]
AT = datetime(2026, 1, 1, tzinfo=UTC)


def registration(uid: int, name: str = "Ada") -> RegistrationRequested:
    return RegistrationRequested(
        **new_envelope(key=str(uid), producer="gateway", occurred_at=AT),
        profile=TelegramUser(user_id=uid, first_name=name),
        chat_id=uid,
    )


def model_change(uid: int, model: str) -> ModelChangeRequested:
    return ModelChangeRequested(
        **new_envelope(key=str(uid), producer="gateway", occurred_at=AT), user_id=uid, model=model
    )


@pytest_asyncio.fixture(loop_scope="session")
async def publisher(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> AsyncIterator[EventPublisher]:
    report = await ensure_topics(stack.kafka_bootstrap, USERS_TOPICS, name_prefix=topic_prefix)
    assert report.ok, report.mismatches
    async with running_publisher(stack.kafka_bootstrap, broker_profile, topic_prefix) as out:
        yield out


async def test_registration_delivered_twice_registers_and_credits_once(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str, publisher: EventPublisher
) -> None:
    """The same RegistrationRequested twice, and a second one from another gateway, give one
    UserRegistered and one StarterCreditRequested; state survives a worker restart."""
    uid = 1001
    first = registration(uid)
    for cmd in (first, first, registration(uid)):
        await publisher.publish(USERS_COMMANDS, cmd)
    async with running_worker(stack, broker_profile, topic_prefix):
        events = await read_at_least(
            stack.kafka_bootstrap, broker_profile, USERS_EVENTS, topic_prefix, count=1
        )
        credits = await read_at_least(
            stack.kafka_bootstrap,
            broker_profile,
            BILLING_COMMANDS,
            topic_prefix,
            count=1,
            settle=1.0,
        )
        await publisher.publish(USERS_COMMANDS, model_change(uid, OPUS))
        await read_at_least(
            stack.kafka_bootstrap, broker_profile, USERS_EVENTS, topic_prefix, count=2
        )
    # a fresh worker folds the events topic: it knows the user and the model
    await publisher.publish(USERS_COMMANDS, registration(uid))
    await publisher.publish(USERS_COMMANDS, registration(uid, name="Augusta"))
    await publisher.publish(USERS_COMMANDS, model_change(uid, HAIKU))
    async with running_worker(stack, broker_profile, topic_prefix):
        events = await read_at_least(
            stack.kafka_bootstrap, broker_profile, USERS_EVENTS, topic_prefix, count=4, settle=1.0
        )
    credits = await read_at_least(
        stack.kafka_bootstrap, broker_profile, BILLING_COMMANDS, topic_prefix, count=1
    )
    assert [type(e) for e in events] == [
        UserRegistered,
        ModelChanged,
        ProfileUpdated,
        ModelChanged,
    ], [(type(e).__name__, e.id, e.causation_id, getattr(e, "model", None)) for e in events]
    assert events[0].causation_id == first.id
    assert events[3].previous_model == OPUS
    (credit,) = credits
    assert isinstance(credit, StarterCreditRequested)
    assert (credit.operation_id, credit.user_id) == (f"starter:{uid}", uid)


async def test_crash_between_credit_and_registration_is_repaired_once(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    publisher: EventPublisher,
    tmp_path: Path,
) -> None:
    """Killed after writing the starter credit but before UserRegistered, the actor decides
    the command again on restart: one UserRegistered, and the credit repeated with the same
    record id and operation id (which billing treats as the same operation)."""
    uid = 2002
    cmd = registration(uid)
    await publisher.publish(USERS_COMMANDS, cmd)
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
        "TOPIC_PREFIX": topic_prefix,
        "CLAUDEGRAM_TEST_CRASH": CRASH_AFTER_BILLING,
        "PYTHONPATH": str(ROOT),
    }
    log_path = tmp_path / "users.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *botctl_argv("users-worker"),
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        try:
            code = await asyncio.wait_for(proc.wait(), 90)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert code == 137, log_path.read_text()
    assert (
        await read_at_least(
            stack.kafka_bootstrap, broker_profile, USERS_EVENTS, topic_prefix, count=1, timeout=1
        )
        == []
    )
    async with running_worker(stack, broker_profile, topic_prefix):
        events = await read_at_least(
            stack.kafka_bootstrap, broker_profile, USERS_EVENTS, topic_prefix, count=1, settle=1.0
        )
    credits = await read_at_least(
        stack.kafka_bootstrap, broker_profile, BILLING_COMMANDS, topic_prefix, count=2
    )
    assert [type(e) for e in events] == [UserRegistered]
    assert len(credits) == 2
    assert len({c.id for c in credits}) == 1
    assert {c.operation_id for c in credits} == {f"starter:{uid}"}


class _CommitFailsOnce(UsersWorker):
    """A users worker whose first offset commit fails (as during a rebalance)."""

    failed = False

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        if not self.failed:
            self.failed = True
            raise CommitFailedError("simulated: the group is rebalancing")
        await super()._commit(consumer, tp, offset)


async def test_a_failed_commit_mid_batch_skips_none_of_the_following_commands(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str, publisher: EventPublisher
) -> None:
    """Three commands of one user fetched in one batch; the first commit fails: the other two
    are fetched again and applied (they used to be skipped until the next restart)."""
    uid = 3003
    for cmd in (registration(uid), model_change(uid, OPUS), model_change(uid, HAIKU)):
        await publisher.publish(USERS_COMMANDS, cmd)
    worker = _CommitFailsOnce(stack.kafka_bootstrap, broker_profile, topic_prefix=topic_prefix)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        events = await read_at_least(
            stack.kafka_bootstrap,
            broker_profile,
            USERS_EVENTS,
            topic_prefix,
            count=3,
            timeout=60,
            settle=0.5,
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert worker.failed
    assert [type(e) for e in events] == [UserRegistered, ModelChanged, ModelChanged]
    assert [e.model for e in events[1:]] == [OPUS, HAIKU]


async def test_a_restarted_worker_folds_every_assigned_partition_in_one_read(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    publisher: EventPublisher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a restart, the first command folds the users of every assigned partition at once
    (one "users state folded" for all of them), not one partition per command."""
    uids = range(3001, 3013)
    for uid in uids:
        await publisher.publish(USERS_COMMANDS, registration(uid))
    async with running_worker(stack, broker_profile, topic_prefix):
        await read_at_least(
            stack.kafka_bootstrap, broker_profile, USERS_EVENTS, topic_prefix, count=len(uids)
        )
    await publisher.publish(USERS_COMMANDS, model_change(uids[0], OPUS))
    caplog.set_level(logging.INFO, logger="infra.users.worker")
    async with running_worker(stack, broker_profile, topic_prefix) as worker:
        await read_at_least(
            stack.kafka_bootstrap, broker_profile, USERS_EVENTS, topic_prefix, count=len(uids) + 1
        )
        folds = [r for r in caplog.records if r.getMessage() == "users state folded"]
        assert len(folds) == 1
        assert sorted(worker.states) == list(range(USERS_COMMANDS.partitions))
        assert sum(map(len, worker.states.values())) == len(uids)
