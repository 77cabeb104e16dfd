-- The attempts each build server said it runs in its latest heartbeat, and when (database clock) that heartbeat
-- was recorded: an attempt the Scheduler declared lost while the server still runs it keeps its place there.
ALTER TABLE build_server ADD COLUMN IF NOT EXISTS running_builds   uuid[]      NOT NULL DEFAULT '{}';
ALTER TABLE build_server ADD COLUMN IF NOT EXISTS running_attempts integer[]   NOT NULL DEFAULT '{}';
ALTER TABLE build_server ADD COLUMN IF NOT EXISTS running_seen_at  timestamptz NOT NULL DEFAULT now();
