-- Snapshots of the engine (snapshot.rs): the state after command `seq`, encoded, with its format
-- version and checksum in the row and again in the body's header (a start checks both and skips
-- a snapshot that fails either). A start loads the newest valid one and replays only the
-- commands after its seq; the command log stays complete (`peerex check` replays all of it).
-- BYTEA: PostgreSQL's binary type; SQLite stores the blob as it is.
CREATE TABLE snapshots (
    seq BIGINT PRIMARY KEY,
    version INTEGER NOT NULL,
    checksum TEXT NOT NULL,
    body BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
