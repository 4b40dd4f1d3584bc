"""The thread worker's users/ledger views start from the projector's read model, not from
offset zero (issue 10 item 11), and still answer what the whole log says."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from decimal import Decimal
from typing import Any

from projection_helpers import create_topics, expected_counts, produce, wait_positions

from actors.thread.models import OPUS, SONNET
from events import billing, catalog, users
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


def _history() -> list[tuple[Any, Envelope]]:
    items = [_credit(uid, n) for n in range(1, 6) for uid in USERS]
    env = new_envelope(key=user_key(USERS[1]), producer="users-actor")
    items.append(
        (
            catalog.USERS_EVENTS,
            users.UserRegistered(
                **env,
                profile=TelegramUser(user_id=USERS[1], first_name="R", language_code="ru"),
                default_model=SONNET,
            ),
        )
    )
    env = new_envelope(key=user_key(USERS[1]), producer="users-actor")
    items.append(
        (
            catalog.USERS_EVENTS,
            users.ModelChanged(**env, user_id=USERS[1], model=OPUS, previous_model=SONNET),
        )
    )
    env = new_envelope(key=user_key(USERS[1]), producer="users-actor")
    items.append(
        (catalog.USERS_EVENTS, users.ThinkingChanged(**env, user_id=USERS[1], level="high"))
    )
    env = new_envelope(key=user_key(USERS[1]), producer="users-actor")
    items.append(
        (catalog.USERS_EVENTS, users.LanguageChanged(**env, user_id=USERS[1], language="en"))
    )
    return items


async def _views(stack: Endpoints, profile: BrokerProfile, prefix: str, seed: Any) -> LogViews:
    views = LogViews(stack.kafka_bootstrap, profile, topic_prefix=prefix, seed=seed)
    await views.start()
    await asyncio.wait_for(views.caught_up.wait(), 30)
    return views


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
    halt = asyncio.Event()
    task = asyncio.create_task(
        run_projector(
            Root(load_settings(), stack, profile=broker_profile),
            halt,
            topic_prefix=prefix,
            schema=pg_schema,
        )
    )
    await wait_positions(stack, pg_schema, expected_counts(history))
    halt.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
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
