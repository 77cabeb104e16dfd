-- The build saga: one row per build (state and version as columns, the instance as jsonb).
CREATE TABLE IF NOT EXISTS build_state (
    correlation_id uuid PRIMARY KEY,
    current_state  text        NOT NULL,
    version        integer     NOT NULL,
    data           jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- Builds still in play: what the dispatcher and the deadline monitor scan.
CREATE INDEX IF NOT EXISTS build_state_active
    ON build_state (current_state)
    WHERE current_state IN ('Queued', 'Dispatched', 'Building', 'Cancelling');
-- Recent finished builds per (repository, architecture, toolchain), for duration estimates.
CREATE INDEX IF NOT EXISTS build_state_finished
    ON build_state ((data->>'TargetArchitecture'), (data->>'Toolchain'), updated_at DESC)
    WHERE current_state = 'Completed';

-- The registry of build servers, kept from their heartbeats.
CREATE TABLE IF NOT EXISTS build_server (
    server_id          text PRIMARY KEY,
    host               text        NOT NULL,
    architectures      text[]      NOT NULL,
    toolchains         text[]      NOT NULL,
    max_concurrent     integer     NOT NULL,
    active_builds      integer     NOT NULL,
    cpu_percent        real        NOT NULL,
    memory_percent     real        NOT NULL,
    disk_percent       real        NOT NULL,
    maintenance        boolean     NOT NULL,
    version            text        NOT NULL,
    heartbeat_interval interval    NOT NULL,
    first_seen         timestamptz NOT NULL,
    last_seen          timestamptz NOT NULL,
    online             boolean     NOT NULL
);

-- Placements the dispatcher made that the build's saga has not turned into a dispatch yet. A row is
-- pending while its saga is Queued with an attempt lower than the row's; other rows are stale and removed.
CREATE TABLE IF NOT EXISTS build_assignment (
    build_id    uuid PRIMARY KEY,
    server_id   text        NOT NULL,
    attempt     integer     NOT NULL,
    assigned_at timestamptz NOT NULL
);
