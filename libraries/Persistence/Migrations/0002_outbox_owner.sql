-- Each service relays only its own outbox rows: a row names the service (process) that wrote it. Rows written
-- before this column existed are given to the Scheduler, whose messages they nearly all were.
ALTER TABLE outbox_message ADD COLUMN IF NOT EXISTS owner text;
UPDATE outbox_message SET owner = 'BuildFarm.Scheduler' WHERE owner IS NULL;
ALTER TABLE outbox_message ALTER COLUMN owner SET NOT NULL;
DROP INDEX IF EXISTS outbox_message_pending;
CREATE INDEX outbox_message_pending ON outbox_message (owner, source, id) WHERE delivered_at IS NULL;
