-- When the Scheduler's own probes (BusProbe, sent through the heartbeat queue) were last consumed, and since when
-- they have been consumed without a gap (both on the consuming Scheduler's clock, like build_server.last_seen).
-- Build servers are judged by their heartbeats only while the probes flow.
CREATE TABLE IF NOT EXISTS bus_probe (
    queue            text PRIMARY KEY,
    flowing_since    timestamptz NOT NULL,
    last_consumed_at timestamptz NOT NULL
);
