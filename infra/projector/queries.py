"""Read-model queries shared by the cache writer (to compute cache values) and the views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import asyncpg

from infra.postgres import quote_schema
from infra.views import LedgerLine

HISTORY_LIMIT: Final = 50
OPERATIONS_LIMIT: Final = 20

USER_FIELDS: Final = [
    "user_id",
    "first_name",
    "last_name",
    "username",
    "language_code",
    "is_premium",
    "default_model",
    "personality",
    "registered_at",
    "balance",
    "balance_updated_at",
    "last_operation_id",
    "thinking",
    "language",
]
THREAD_FIELDS: Final = [
    "thread_key",
    "chat_id",
    "message_thread_id",
    "chat_type",
    "is_forum",
    "opened_by_user_id",
    "opened_at",
    "title",
    "title_source",
    "model_override",
    "personality_override",
    "reset_at",
    "last_activity_at",
]


@dataclass(frozen=True, slots=True)
class HistoryMessage:
    """One message of a thread's current conversation (after its last reset), for context."""

    chat_id: int
    message_id: int
    role: str
    user_id: int | None
    sent_at: datetime | None
    text: str
    attachments: str | None
    edited_at: datetime | None
    turn_id: str | None
    model: str | None


def subject(kind: str, row: Any) -> str:
    """What a ledger entry was about, language-neutral, for ``/balance`` (see
    :class:`infra.views.LedgerLine`)."""
    if kind == "usage_debited":
        return str(row["tool_name"] or row["model"] or "")
    if kind in ("payment_credited", "refund_debited", "refunded_payment_debited"):
        return "" if row["stars"] is None else str(row["stars"])
    if kind in ("admin_topped_up", "operation_rejected"):
        return str(row["reason"] or "")
    return ""


async def fetch_users(
    conn: asyncpg.Connection, schema: str, user_ids: Sequence[int]
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {', '.join(USER_FIELDS)} FROM {quote_schema(schema)}.users "
            "WHERE user_id = ANY($1::bigint[])",
            list(user_ids),
        )
    )


async def fetch_operations(
    conn: asyncpg.Connection, schema: str, user_ids: Sequence[int], limit: int
) -> dict[int, list[LedgerLine]]:
    rows = await conn.fetch(
        "SELECT * FROM (SELECT user_id, occurred_at, kind, amount, balance_after, operation_id,"
        " model, tool_name, source, stars, reason, telegram_payment_charge_id,"
        " row_number() OVER (PARTITION BY user_id ORDER BY kafka_partition DESC,"
        " kafka_offset DESC) AS rn"
        f" FROM {quote_schema(schema)}.ledger_entries WHERE user_id = ANY($1::bigint[])) x"
        " WHERE rn <= $2 ORDER BY user_id, rn",
        list(user_ids),
        limit,
    )
    out: dict[int, list[LedgerLine]] = {uid: [] for uid in user_ids}
    for r in rows:
        out[r["user_id"]].append(
            LedgerLine(
                occurred_at=r["occurred_at"],
                kind=r["kind"],
                amount=r["amount"],
                balance_after=r["balance_after"],
                operation_id=r["operation_id"],
                subject=subject(r["kind"], r),
                source=(r["source"] or "") if r["kind"] == "usage_debited" else "",
                reference=r["telegram_payment_charge_id"] or "",
            )
        )
    return out


async def fetch_threads(
    conn: asyncpg.Connection, schema: str, keys: Sequence[str]
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {', '.join(THREAD_FIELDS)} FROM {quote_schema(schema)}.threads "
            "WHERE thread_key = ANY($1::text[])",
            list(keys),
        )
    )


async def fetch_chat_topics(conn: asyncpg.Connection, schema: str, chat_id: int) -> list[int]:
    """The forum topics (``message_thread_id`` > 0) of a chat's threads, in order; topics
    ``/clear`` deleted (``deleted_at``) are left out."""
    rows = await conn.fetch(
        f"SELECT DISTINCT message_thread_id FROM {quote_schema(schema)}.threads "
        "WHERE chat_id = $1 AND message_thread_id > 0 AND deleted_at IS NULL"
        " ORDER BY message_thread_id",
        chat_id,
    )
    return [int(row["message_thread_id"]) for row in rows]


async def fetch_histories(
    conn: asyncpg.Connection, schema: str, keys: Sequence[str], limit: int
) -> dict[str, list[HistoryMessage]]:
    """The newest ``limit`` messages of each thread since its last reset, oldest first."""
    s = quote_schema(schema)
    rows = await conn.fetch(
        "SELECT * FROM (SELECT m.thread_key, m.chat_id, m.message_id, m.role, m.user_id,"
        " m.sent_at, m.text, m.attachments::text AS attachments, m.edited_at,"
        " m.turn_id::text AS turn_id, m.model, m.seq,"
        " row_number() OVER (PARTITION BY m.thread_key ORDER BY m.seq DESC) AS rn"
        f" FROM {s}.messages m LEFT JOIN {s}.threads t ON t.thread_key = m.thread_key"
        " WHERE m.thread_key = ANY($1::text[]) AND m.status IN ('accepted', 'sent')"
        " AND m.seq > COALESCE(t.reset_offset, -1)) x"
        " WHERE rn <= $2 ORDER BY thread_key, seq",
        list(keys),
        limit,
    )
    out: dict[str, list[HistoryMessage]] = {k: [] for k in keys}
    for r in rows:
        out[r["thread_key"]].append(
            HistoryMessage(
                chat_id=r["chat_id"],
                message_id=r["message_id"],
                role=r["role"],
                user_id=r["user_id"],
                sent_at=r["sent_at"],
                text=r["text"] or "",
                attachments=r["attachments"],
                edited_at=r["edited_at"],
                turn_id=r["turn_id"],
                model=r["model"],
            )
        )
    return out


def to_decimal(value: str | bytes | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value.decode() if isinstance(value, bytes) else value)
