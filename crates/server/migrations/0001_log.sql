-- One schema for SQLite and PostgreSQL: integers for money and times (micro-credits and
-- Unix milliseconds live inside the JSON bodies and BIGINT columns), no floats anywhere.

-- Every command that changed something, in the order the single writer applied it.
-- Replaying `body` in `seq` order into a fresh engine rebuilds the whole market state.
CREATE TABLE commands (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    body TEXT NOT NULL,
    -- The engine's error code when the operation itself was refused (the command is kept
    -- because moving the clock emitted events); NULL when it succeeded.
    error TEXT
);

-- Events in their public JSON form, for feeds, trade history and the audit trail.
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    command_seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    issue TEXT,
    maturation BIGINT,
    body TEXT NOT NULL
);
CREATE INDEX events_by_series ON events (issue, maturation, kind, seq);

-- Which users each event concerns (per-user feeds after a cursor).
CREATE TABLE event_users (
    user_name TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    PRIMARY KEY (user_name, event_seq)
);

CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    admin BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

-- Bearer tokens are stored as SHA-256 hashes only.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- First answers to requests that carried an Idempotency-Key, per user (or "anonymous").
CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Who opened each local-tracker issue (only they or an admin may close or reopen it).
CREATE TABLE issue_openers (
    issue TEXT PRIMARY KEY,
    user_name TEXT NOT NULL
);

-- Small named integers (the sandbox clock offset).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
