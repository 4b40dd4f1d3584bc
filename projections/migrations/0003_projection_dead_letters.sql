-- Records a projection could not apply (PostgreSQL refused its rows, or its row mapping
-- failed): each was parked in its topic's .dlq twin and skipped, in the same transaction that
-- moved the projection's position past it. A rebuild skips exactly these records, so live and
-- replayed tables stay equal; `botctl verify` lists them.
CREATE TABLE projection_dead_letters (
    projection       text        NOT NULL,
    topic            text        NOT NULL,
    partition        integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    record_type      text,
    record_id        text,
    reason           text        NOT NULL,
    detail           text        NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, topic, partition, source_offset)
);
