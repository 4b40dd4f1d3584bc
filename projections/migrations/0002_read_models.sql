-- Read models built by the projections (projections/tables.py declares the same columns).
--
-- Every row is derived from the log only. Append-only tables are keyed by the id of the
-- record that created the row (a redelivered record inserts nothing). Mutable tables carry
-- a guard column per writer (the source offset of the last record applied to that group of
-- columns): an upsert whose offset is not newer than the guard changes nothing.
-- All non-key columns are nullable: a row may be created by any of its writers first.

ALTER TABLE projection_positions ADD COLUMN last_event_at timestamptz;

CREATE TABLE users (
    user_id            bigint PRIMARY KEY,
    first_name         text,
    last_name          text,
    username           text,
    language_code      text,
    is_premium         boolean,
    is_bot             boolean,
    default_model      text,
    personality        text,
    registered_at      timestamptz,
    profile_updated_at timestamptz,
    profile_offset     bigint,
    balance            numeric,
    balance_updated_at timestamptz,
    last_operation_id  text,
    balance_offset     bigint
);
CREATE INDEX users_username ON users (lower(username));

CREATE TABLE chats (
    chat_id       bigint PRIMARY KEY,
    chat_type     text,
    is_forum      boolean,
    first_seen_at timestamptz
);

CREATE TABLE threads (
    thread_key           text PRIMARY KEY,
    chat_id              bigint,
    message_thread_id    bigint,
    chat_type            text,
    is_forum             boolean,
    opened_by_user_id    bigint,
    opened_at            timestamptz,
    title                text,
    title_source         text,
    title_model          text,
    model_override       text,
    personality_override text,
    reset_at             timestamptz,
    reset_offset         bigint,
    last_activity_at     timestamptz,
    last_offset          bigint
);
CREATE INDEX threads_chat ON threads (chat_id);

CREATE TABLE messages (
    chat_id              bigint NOT NULL,
    message_id           bigint NOT NULL,
    thread_key           text,
    role                 text,
    status               text,
    user_id              bigint,
    sent_at              timestamptz,
    text                 text,
    attachments          jsonb,
    reply_to_message_id  bigint,
    quote                text,
    forward_origin       jsonb,
    media_group_id       text,
    edited_at            timestamptz,
    rejection_reason     text,
    turn_id              uuid,
    step                 integer,
    model                text,
    usage                jsonb,
    stop_reason          text,
    telegram_message_ids bigint[],
    seq                  bigint,
    last_offset          bigint,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX messages_thread_seq ON messages (thread_key, seq);

CREATE TABLE message_edits (
    event_id      uuid PRIMARY KEY,
    chat_id       bigint,
    message_id    bigint,
    thread_key    text,
    edited_at     timestamptz,
    text          text,
    attachments   jsonb,
    source_offset bigint
);
CREATE INDEX message_edits_message ON message_edits (chat_id, message_id, source_offset);

CREATE TABLE turns (
    turn_id                uuid PRIMARY KEY,
    thread_key             text,
    user_id                bigint,
    model                  text,
    input_message_ids      bigint[],
    thinking_budget_tokens integer,
    max_output_tokens      integer,
    started_at             timestamptz,
    status                 text,
    ended_at               timestamptz,
    steps                  integer,
    reason                 text,
    error_class            text,
    error_message          text,
    last_offset            bigint
);
CREATE INDEX turns_thread ON turns (thread_key, started_at);

CREATE TABLE model_calls (
    event_id               uuid PRIMARY KEY,
    thread_key             text,
    turn_id                uuid,
    step                   integer,
    user_id                bigint,
    model                  text,
    kind                   text,
    occurred_at            timestamptz,
    input_tokens           bigint,
    output_tokens          bigint,
    cache_write_5m_tokens  bigint,
    cache_write_1h_tokens  bigint,
    cache_read_tokens      bigint,
    thinking_tokens        bigint,
    web_search_requests    integer,
    web_fetch_requests     integer,
    billing_operation_id   text
);
CREATE INDEX model_calls_occurred ON model_calls (occurred_at);

CREATE TABLE tool_calls (
    tool_use_id          text PRIMARY KEY,
    thread_key           text,
    turn_id              uuid,
    step                 integer,
    user_id              bigint,
    tool_name            text,
    input                jsonb,
    server_side          boolean,
    paid                 boolean,
    requested_at         timestamptz,
    status               text,
    completed_at         timestamptz,
    duration_ms          integer,
    output               text,
    error_class          text,
    error_message        text,
    quantities           jsonb,
    file_ids             uuid[],
    sandbox_id           text,
    billing_operation_id text,
    last_offset          bigint
);
CREATE INDEX tool_calls_turn ON tool_calls (turn_id);

CREATE TABLE files (
    file_id                 uuid PRIMARY KEY,
    thread_key              text,
    origin                  text,
    user_id                 bigint,
    message_id              bigint,
    kind                    text,
    telegram_file_id        text,
    telegram_file_unique_id text,
    mime_type               text,
    file_name               text,
    size_bytes              bigint,
    turn_id                 uuid,
    tool_use_id             text,
    tool_name               text,
    sha256                  text,
    storage_uri             text,
    preview                 text,
    provider                text,
    provider_file_id        text,
    uploaded_at             timestamptz,
    expires_at              timestamptz,
    delivered_at            timestamptz,
    delivered_chat_id       bigint,
    delivered_message_id    bigint,
    created_at              timestamptz,
    last_offset             bigint
);
CREATE INDEX files_thread ON files (thread_key);

CREATE TABLE ledger_entries (
    event_id                   uuid PRIMARY KEY,
    user_id                    bigint NOT NULL,
    kind                       text NOT NULL,
    operation_id               text NOT NULL,
    amount                     numeric NOT NULL,
    balance_after              numeric NOT NULL,
    occurred_at                timestamptz NOT NULL,
    command_id                 uuid,
    command_digest             text,
    source                     text,
    source_event_id            uuid,
    thread_key                 text,
    turn_id                    uuid,
    model                      text,
    tool_name                  text,
    price_version              text,
    usage                      jsonb,
    tool_quantities            jsonb,
    lines                      jsonb,
    telegram_payment_charge_id text,
    stars                      integer,
    usd_per_star               numeric,
    withdrawal_fee             numeric,
    topics_fee                 numeric,
    owner_margin               numeric,
    admin_user_id              bigint,
    command_type               text,
    reason                     text,
    detail                     text,
    kafka_partition            integer NOT NULL,
    kafka_offset               bigint NOT NULL
);
CREATE INDEX ledger_entries_user ON ledger_entries (user_id, kafka_partition, kafka_offset);
CREATE INDEX ledger_entries_occurred ON ledger_entries (occurred_at);
CREATE INDEX ledger_entries_operation ON ledger_entries (operation_id);

CREATE TABLE payments (
    telegram_payment_charge_id text PRIMARY KEY,
    user_id                    bigint,
    invoice_payload            text,
    stars                      integer,
    currency                   text,
    provider_payment_charge_id text,
    paid_at                    timestamptz,
    status                     text,
    refund_requested_at        timestamptz,
    refund_requested_by        bigint,
    refunded_at                timestamptz,
    refunded_stars             integer,
    refund_failed_at           timestamptz,
    refund_failure_stage       text,
    refund_failure_reason      text,
    last_offset                bigint
);
CREATE INDEX payments_user ON payments (user_id);

CREATE TABLE invoices (
    invoice_payload     text PRIMARY KEY,
    user_id             bigint,
    chat_id             bigint,
    stars               integer,
    currency            text,
    quoted_usd          numeric,
    owner_margin        numeric,
    issued_at           timestamptz,
    telegram_message_id bigint,
    pre_checkout_at     timestamptz,
    pre_checkout_ok     boolean,
    pre_checkout_error  text,
    paid_charge_id      text,
    last_offset         bigint
);

CREATE TABLE margin_changes (
    event_id              uuid PRIMARY KEY,
    owner_margin          numeric,
    previous_owner_margin numeric,
    admin_user_id         bigint,
    occurred_at           timestamptz
);
