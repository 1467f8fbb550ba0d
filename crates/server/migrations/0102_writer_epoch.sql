-- The writer's epoch: every process that takes the writer lock increments it, and every batch
-- commits only if the epoch is still the one its writer took. On PostgreSQL the lock lives on
-- its own connection while batches commit on others, so a writer killed mid-commit can lose the
-- lock before its last commit lands; the epoch row fences that commit (it either lands before
-- the next writer's increment, which then waits for it, or is refused after it).
CREATE TABLE writer_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
);
INSERT INTO writer_epoch (id, epoch) VALUES (1, 0);
