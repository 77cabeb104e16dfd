-- GET /api/v1/builds (Submission, through build_view) lists newest first with a keyset cursor (submitted_at, id) and
-- filters by state, architecture, server, repository, submitter, priority and a submission-time range. Each filter is an
-- equality on one typed column: with an index on (that column, submitted_at DESC, correlation_id DESC) a page is an index
-- range scan that reads the page's rows and stops, whatever the table holds. submitted_by has one since 0006
-- (build_state_submitter); a time range alone, or no filter, uses build_state_submitted (0006).
CREATE INDEX IF NOT EXISTS build_state_state_submitted        ON build_state (current_state, submitted_at DESC, correlation_id DESC);
CREATE INDEX IF NOT EXISTS build_state_architecture_submitted ON build_state (architecture, submitted_at DESC, correlation_id DESC);
CREATE INDEX IF NOT EXISTS build_state_server_submitted       ON build_state (server_id, submitted_at DESC, correlation_id DESC);
CREATE INDEX IF NOT EXISTS build_state_repository_submitted   ON build_state (repository, submitted_at DESC, correlation_id DESC);
CREATE INDEX IF NOT EXISTS build_state_priority_submitted     ON build_state (priority, submitted_at DESC, correlation_id DESC);
