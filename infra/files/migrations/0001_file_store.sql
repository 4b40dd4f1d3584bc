-- The thread file store (infra/files/pg_store.py): bytes as PostgreSQL large objects, one per
-- distinct content (blobs, by SHA-256), and one row per file of a thread (files). Not a read
-- model: the bytes are not in the log, so replay never rebuilds or swaps this schema.
CREATE TABLE blobs (
    sha256      text PRIMARY KEY,
    oid         oid,            -- the large object; NULL once retention deleted the bytes
    size_bytes  bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE files (
    file_id          uuid PRIMARY KEY,
    thread_key       text NOT NULL,
    owner_user_id    bigint NOT NULL,
    origin           text NOT NULL CHECK (origin IN ('user', 'tool')),
    sha256           text NOT NULL REFERENCES blobs (sha256),
    name             text NOT NULL,
    mime_type        text NOT NULL,
    kind             text NOT NULL,
    size_bytes       bigint NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    bytes_deleted_at timestamptz
);
CREATE INDEX files_by_thread ON files (thread_key, created_at);
CREATE INDEX files_live_by_created ON files (created_at) WHERE bytes_deleted_at IS NULL;
CREATE INDEX files_by_sha ON files (sha256);
