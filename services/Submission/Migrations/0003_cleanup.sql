-- Builds whose logs and unshared artifact files were removed after the farm's cleanupBuildsAfterDays. The
-- build's own record (build_request, the Scheduler's build_state) is kept; this row says when it was cleaned.
CREATE TABLE IF NOT EXISTS build_cleanup (
    build_id          uuid PRIMARY KEY,
    cleaned_at        timestamptz NOT NULL,
    logs_deleted      bigint      NOT NULL,
    artifacts_deleted integer     NOT NULL
);
