-- Idempotency records now keep a hash of the request they answered (the same key with another
-- request is refused) and when they were made (they expire), and record the writer's domain
-- answer instead of an HTTP reply. The old records only served retries: they are dropped.
DROP TABLE idempotency;

CREATE TABLE idempotency_records (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_records_created ON idempotency_records (created_at);
