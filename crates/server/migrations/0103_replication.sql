-- Several `peerex serve --cluster` processes on one PostgreSQL database (docs/deploy.md).
-- The writer advertises where the others forward writes to, and the secret they prove they read
-- this database with. Replicas tail `commands` by seq and apply whole batches only: the last
-- command of each committed batch is marked (older rows, written one process at a time, count as
-- batch ends).
ALTER TABLE writer_epoch ADD COLUMN address TEXT;
ALTER TABLE writer_epoch ADD COLUMN secret TEXT;
ALTER TABLE commands ADD COLUMN batch_end BOOLEAN NOT NULL DEFAULT TRUE;
