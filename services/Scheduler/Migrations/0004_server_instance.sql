-- The Worker process behind each build server's latest heartbeat (a new id at each start of the Worker), and the
-- processes it replaced: a late heartbeat of a replaced process is ignored.
ALTER TABLE build_server ADD COLUMN IF NOT EXISTS instance_id       uuid;
ALTER TABLE build_server ADD COLUMN IF NOT EXISTS retired_instances uuid[] NOT NULL DEFAULT '{}';
