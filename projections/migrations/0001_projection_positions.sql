-- Consumer positions of every projection, written in the same transaction as its rows,
-- so a projection resumes exactly where its last committed batch ended.
CREATE TABLE projection_positions (
    projection  text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    next_offset bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, topic, partition)
);
