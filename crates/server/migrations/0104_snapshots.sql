-- Snapshots of the engine (snapshot.rs): the state after command `seq`, encoded, with its format
-- version and checksum in the row and again in the body's header (a start checks both and skips
-- a snapshot that fails either). A start loads the newest valid one and replays only the
-- commands after it; the command log stays complete (`peerex check` replays all of it).
-- The body is stored in parts of at most 64 MiB (`snapshot_parts`): SQLite and PostgreSQL both
-- refuse a single value over 1 GB, and a large exchange's snapshot is bigger.
-- BYTEA: PostgreSQL's binary type; SQLite stores the blob as it is.
CREATE TABLE snapshots (
    seq BIGINT PRIMARY KEY,
    version INTEGER NOT NULL,
    checksum TEXT NOT NULL,
    parts INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE snapshot_parts (
    seq BIGINT NOT NULL,
    part INTEGER NOT NULL,
    body BYTEA NOT NULL,
    PRIMARY KEY (seq, part)
);
