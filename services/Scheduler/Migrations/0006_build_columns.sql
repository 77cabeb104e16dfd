-- What other code queries of a build is a typed column of its row, written by the saga repository from the
-- instance in the same statement as data (SchedulerExtensions: BuildStateColumns); nothing reads data->>'…'.
ALTER TABLE build_state
    ADD COLUMN IF NOT EXISTS attempt             integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS server_id           text,
    ADD COLUMN IF NOT EXISTS priority            text,
    ADD COLUMN IF NOT EXISTS submitted_by        text,
    ADD COLUMN IF NOT EXISTS submitted_at        timestamptz,
    ADD COLUMN IF NOT EXISTS architecture        text,
    ADD COLUMN IF NOT EXISTS toolchain           text,
    ADD COLUMN IF NOT EXISTS repository          text,
    ADD COLUMN IF NOT EXISTS requested_server_id text,
    ADD COLUMN IF NOT EXISTS retry_at            timestamptz,
    ADD COLUMN IF NOT EXISTS dispatched_at       timestamptz,
    ADD COLUMN IF NOT EXISTS started_at          timestamptz,
    ADD COLUMN IF NOT EXISTS finished_at         timestamptz,
    ADD COLUMN IF NOT EXISTS deadline_at         timestamptz,
    ADD COLUMN IF NOT EXISTS worker_instance     uuid,
    ADD COLUMN IF NOT EXISTS duration            interval,
    ADD COLUMN IF NOT EXISTS reason              text;

-- Rows written before this migration: their columns from their data, once.
UPDATE build_state SET
    attempt             = COALESCE((data->>'Attempt')::int, 0),
    server_id           = data->>'ServerId',
    priority            = data->>'Priority',
    submitted_by        = data->>'SubmittedBy',
    submitted_at        = (data->>'SubmittedAt')::timestamptz,
    architecture        = data->>'TargetArchitecture',
    toolchain           = data->>'Toolchain',
    repository          = data->>'SourceRepository',
    requested_server_id = data->>'RequestedServerId',
    retry_at            = (data->>'RetryAt')::timestamptz,
    dispatched_at       = (data->>'DispatchedAt')::timestamptz,
    started_at          = (data->>'StartedAt')::timestamptz,
    finished_at         = (data->>'FinishedAt')::timestamptz,
    deadline_at         = (data->>'DeadlineAt')::timestamptz,
    worker_instance     = (data->>'WorkerInstance')::uuid,
    duration            = (data->>'Duration')::interval,
    reason              = data->>'Reason';

-- The builds running on a server (capacity, lost servers, restarted Workers).
CREATE INDEX IF NOT EXISTS build_state_server ON build_state (server_id)
    WHERE current_state IN ('Dispatched', 'Building', 'Cancelling');
-- Recent finished builds per (architecture, toolchain), for duration estimates: on the columns now.
DROP INDEX IF EXISTS build_state_finished;
CREATE INDEX IF NOT EXISTS build_state_finished ON build_state (architecture, toolchain, updated_at DESC)
    WHERE current_state = 'Completed';
-- Listing newest first, and by submitter.
CREATE INDEX IF NOT EXISTS build_state_submitted ON build_state (submitted_at DESC, correlation_id DESC);
CREATE INDEX IF NOT EXISTS build_state_submitter ON build_state (submitted_by, submitted_at DESC, correlation_id DESC);
