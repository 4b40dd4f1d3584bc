"""The read-model tables: columns in order (as in ``migrations/0002_read_models.sql``), keys,
and how each is written (append-only, or mutable with guarded column groups)."""

from __future__ import annotations

from typing import Final

from projections.rows import Group, Table


def _cols(text: str) -> tuple[str, ...]:
    return tuple(text.split())


USERS: Final = Table(
    "users",
    _cols(
        "user_id first_name last_name username language_code is_premium is_bot default_model"
        " personality registered_at profile_updated_at profile_offset balance"
        " balance_updated_at last_operation_id balance_offset thinking language"
    ),
    key=("user_id",),
    groups=(Group("profile", "profile_offset"), Group("balance", "balance_offset")),
)
CHATS: Final = Table(
    "chats",
    _cols("chat_id chat_type is_forum first_seen_at"),
    key=("chat_id",),
    # A chat's threads live on different partitions: only commutative merges here.
    groups=(Group("merge", None, {"chat_type": "max", "is_forum": "or", "first_seen_at": "min"}),),
)
THREADS: Final = Table(
    "threads",
    _cols(
        "thread_key chat_id message_thread_id chat_type is_forum opened_by_user_id opened_at"
        " title title_source title_model model_override personality_override reset_at"
        " reset_offset last_activity_at last_offset deleted_at"
    ),
    key=("thread_key",),
    groups=(Group("row", "last_offset"),),
)
MESSAGES: Final = Table(
    "messages",
    _cols(
        "chat_id message_id thread_key role status user_id sent_at text attachments"
        " reply_to_message_id quote forward_origin media_group_id edited_at rejection_reason"
        " turn_id step model usage stop_reason telegram_message_ids seq last_offset"
    ),
    key=("chat_id", "message_id"),
    groups=(Group("row", "last_offset"),),
)
MESSAGE_EDITS: Final = Table(
    "message_edits",
    _cols("event_id chat_id message_id thread_key edited_at text attachments source_offset"),
    key=("event_id",),
    append_only=True,
)
TURNS: Final = Table(
    "turns",
    _cols(
        "turn_id thread_key user_id model input_message_ids thinking_budget_tokens"
        " max_output_tokens started_at status ended_at steps reason error_class error_message"
        " last_offset"
    ),
    key=("turn_id",),
    groups=(Group("row", "last_offset"),),
)
MODEL_CALLS: Final = Table(
    "model_calls",
    _cols(
        "event_id thread_key turn_id step user_id model kind occurred_at input_tokens"
        " output_tokens cache_write_5m_tokens cache_write_1h_tokens cache_read_tokens"
        " thinking_tokens web_search_requests web_fetch_requests billing_operation_id"
    ),
    key=("event_id",),
    append_only=True,
)
TOOL_CALLS: Final = Table(
    "tool_calls",
    _cols(
        "tool_use_id thread_key turn_id step user_id tool_name input server_side paid"
        " requested_at status completed_at duration_ms output error_class error_message"
        " quantities file_ids sandbox_id billing_operation_id last_offset"
    ),
    key=("tool_use_id",),
    groups=(Group("row", "last_offset"),),
)
FILES: Final = Table(
    "files",
    _cols(
        "file_id thread_key origin user_id message_id kind telegram_file_id"
        " telegram_file_unique_id mime_type file_name size_bytes turn_id tool_use_id tool_name"
        " sha256 storage_uri preview provider provider_file_id uploaded_at expires_at"
        " delivered_at delivered_chat_id delivered_message_id created_at last_offset"
    ),
    key=("file_id",),
    groups=(Group("row", "last_offset"),),
)
LEDGER_ENTRIES: Final = Table(
    "ledger_entries",
    _cols(
        "event_id user_id kind operation_id amount balance_after occurred_at command_id"
        " command_digest source source_event_id thread_key turn_id model tool_name"
        " price_version usage tool_quantities lines telegram_payment_charge_id stars"
        " usd_per_star withdrawal_fee topics_fee owner_margin admin_user_id command_type"
        " reason detail kafka_partition kafka_offset"
    ),
    key=("event_id",),
    append_only=True,
)
PAYMENTS: Final = Table(
    "payments",
    _cols(
        "telegram_payment_charge_id user_id invoice_payload stars currency"
        " provider_payment_charge_id paid_at status refund_requested_at refund_requested_by"
        " refunded_at refunded_stars refund_failed_at refund_failure_stage"
        " refund_failure_reason last_offset refund_request_offset"
    ),
    key=("telegram_payment_charge_id",),
    # "row": the payer's partition (payment, refund, refund error); "request": whoever asked.
    groups=(Group("row", "last_offset"), Group("request", "refund_request_offset")),
)
INVOICES: Final = Table(
    "invoices",
    _cols(
        "invoice_payload user_id chat_id stars currency quoted_usd owner_margin issued_at"
        " telegram_message_id pre_checkout_at pre_checkout_ok pre_checkout_error"
        " paid_charge_id last_offset"
    ),
    key=("invoice_payload",),
    groups=(Group("row", "last_offset"),),
)
MARGIN_CHANGES: Final = Table(
    "margin_changes",
    _cols("event_id owner_margin previous_owner_margin admin_user_id occurred_at"),
    key=("event_id",),
    append_only=True,
)

TABLES: Final[dict[str, Table]] = {
    t.name: t
    for t in (
        USERS,
        CHATS,
        THREADS,
        MESSAGES,
        MESSAGE_EDITS,
        TURNS,
        MODEL_CALLS,
        TOOL_CALLS,
        FILES,
        LEDGER_ENTRIES,
        PAYMENTS,
        INVOICES,
        MARGIN_CHANGES,
    )
}
"""Every read-model table by name."""
