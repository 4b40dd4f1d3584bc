"""The thread worker's users/ledger views start from the projector's read model, not from
offset zero (issue 10 item 11), and still answer what the whole log says."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
from projection_helpers import (
    applied_records,
    create_topics,
    expected_counts,
    produce,
    wait_positions,
)

from actors.thread.models import OPUS, SONNET
from events import billing, catalog
from events import users as user_events
from events.envelope import Envelope, new_envelope
from events.ids import new_id
from events.keys import user_key
from events.messages import TelegramUser
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.postgres import create_pool
from infra.projector.runner import run_projector
from infra.settings import load_settings
from infra.threads.log_views import LogViews, ReadModelSeed

USERS = range(6_300_001, 6_300_011)
LATE = 6_300_001  # credited again after the projector stopped
BOUNDED = range(6_300_101, 6_300_111)  # the bound's test: rows of its own in the read model


def _credit(uid: int, n: int) -> tuple[Any, Envelope]:
    return (
        catalog.BILLING_LEDGER,
        billing.AdminToppedUp(
            **new_envelope(key=user_key(uid), producer="billing"),
            operation_id=f"top:{uid}:{n}",
            user_id=uid,
            amount=Decimal(1),
            balance_after=Decimal(n),
            command_id=new_id(),
            command_digest="0" * 16,
            admin_user_id=1,
        ),
    )


def _history(users: range = USERS) -> list[tuple[Any, Envelope]]:
    """Five credits per user; the second user registers, picks Opus and thinks hard."""
    items = [_credit(uid, n) for n in range(1, 6) for uid in users]
    env = new_envelope(key=user_key(users[1]), producer="users-actor")
    items.append(
        (
            catalog.USERS_EVENTS,
            user_events.UserRegistered(
                **env,
                profile=TelegramUser(user_id=users[1], first_name="R", language_code="ru"),
                default_model=SONNET,
            ),
        )
    )
    env = new_envelope(key=user_key(users[1]), producer="users-actor")
    items.append(
        (
            catalog.USERS_EVENTS,
            user_events.ModelChanged(**env, user_id=users[1], model=OPUS, previous_model=SONNET),
        )
    )
    env = new_envelope(key=user_key(users[1]), producer="users-actor")
    items.append(
        (catalog.USERS_EVENTS, user_events.ThinkingChanged(**env, user_id=users[1], level="high"))
    )
    env = new_envelope(key=user_key(users[1]), producer="users-actor")
    items.append(
        (catalog.USERS_EVENTS, user_events.LanguageChanged(**env, user_id=users[1], language="en"))
    )
    return items


async def _views(stack: Endpoints, profile: BrokerProfile, prefix: str, seed: Any) -> LogViews:
    views = LogViews(stack.kafka_bootstrap, profile, topic_prefix=prefix, seed=seed)
    await views.start()
    await asyncio.wait_for(views.caught_up.wait(), 30)
    return views


async def _project(
    stack: Endpoints,
    profile: BrokerProfile,
    prefix: str,
    schema: str,
    items: list[tuple[Any, Envelope]],
) -> None:
    """Run the projector until it has applied ``items`` beyond what the schema's positions
    counted before (the module's tests share one schema), then stop it."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        before = {p: await applied_records(conn, schema, p) for p in expected_counts(items)}
    except asyncpg.UndefinedTableError:  # the first run migrates it
        before = {}
    finally:
        await conn.close()
    expected = {p: before.get(p, 0) + n for p, n in expected_counts(items).items()}
    halt = asyncio.Event()
    task = asyncio.create_task(
        run_projector(
            Root(load_settings(), stack, profile=profile),
            halt,
            topic_prefix=prefix,
            schema=schema,
        )
    )
    await wait_positions(stack, schema, expected)
    halt.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)


async def test_views_start_at_the_projector_position_and_fill_in_from_the_read_model(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str
) -> None:
    """With the projector's positions, the views read only the tail after them (2 records,
    not 56), answer a user's balance, model and languages from the read model, and a newer
    ledger entry in the tail wins over the row; without a seed they read everything from
    zero."""
    prefix = f"s{uuid.uuid4().hex[:8]}."
    await create_topics(stack, prefix)
    history = _history()
    await produce(stack, broker_profile, prefix, history)
    await _project(stack, broker_profile, prefix, pg_schema, history)
    await produce(stack, broker_profile, prefix, [_credit(LATE, 6), _credit(LATE, 7)])
    pool = await create_pool(stack.database_url)
    seeded = await _views(stack, broker_profile, prefix, ReadModelSeed(pool, schema=pg_schema))
    full = await _views(stack, broker_profile, prefix, None)
    try:
        assert seeded.applied == 2
        assert full.applied == len(history) + 2
        for view in (seeded, full):
            assert await view.balances.balance(LATE) == Decimal(7)
            assert await view.balances.balance(USERS[2]) == Decimal(5)
            assert (await view.preferences(USERS[1])).model == OPUS
            assert (await view.preferences(USERS[1])).thinking == "high"
            assert (await view.preferences(USERS[1])).language == "en"  # chosen over Telegram's
            assert (await view.preferences(USERS[1])).language_code == "ru"
            assert await view.balances.balance(6_399_999) is None
    finally:
        await seeded.stop()
        await full.stop()
        await pool.close()


async def test_views_stay_within_their_bound_and_read_an_evicted_user_again(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str
) -> None:
    """Over ``max_users`` the views evict the least recently used entries the read model
    covers, down to the bound, and keep a tail entry the projector has not applied yet; an
    evicted user (from the read model or from the tail) is read from the read model again
    and answers what the log says."""
    prefix = f"b{uuid.uuid4().hex[:8]}."
    await create_topics(stack, prefix)
    history = _history(BOUNDED)
    await produce(stack, broker_profile, prefix, history)
    await _project(stack, broker_profile, prefix, pg_schema, history)
    late = [_credit(BOUNDED[0], 6), _credit(BOUNDED[0], 7)]
    await produce(stack, broker_profile, prefix, late)  # in the tail only
    pool = await create_pool(stack.database_url)
    seed = ReadModelSeed(pool, schema=pg_schema)
    views = LogViews(
        stack.kafka_bootstrap,
        broker_profile,
        topic_prefix=prefix,
        seed=seed,
        max_users=3,
        bound_every=3600,
    )
    await views.start()
    try:
        await asyncio.wait_for(views.caught_up.wait(), 30)
        for uid in BOUNDED:  # BOUNDED[0] (from the tail) is the least recently used
            assert await views.balances.balance(uid) == Decimal(7 if uid == BOUNDED[0] else 5)
            await views.preferences(uid)
        assert len(views.balances.balances) == len(BOUNDED)
        assert await views.bound() > 0
        assert set(views.balances.balances) == {BOUNDED[0], BOUNDED[-2], BOUNDED[-1]}
        assert len(views.preferences_view.users) <= 3
        assert await views.balances.balance(BOUNDED[2]) == Decimal(5)  # evicted, read again
        assert (await views.preferences(BOUNDED[1])).model == OPUS
        assert (await views.preferences(BOUNDED[1])).thinking == "high"
        await _project(stack, broker_profile, prefix, pg_schema, late)
        assert await views.bound() > 0  # the projector now covers BOUNDED[0]'s tail entry
        assert BOUNDED[0] not in views.balances.balances
        assert len(views.balances.balances) == 3
        assert await views.balances.balance(BOUNDED[0]) == Decimal(7)
    finally:
        await views.stop()
        await pool.close()
