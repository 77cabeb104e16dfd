-- A request accepted over HTTP that the Scheduler then refused (for example because the queue filled up
-- between the two checks) keeps the Scheduler's reasons here, so the build reads as Rejected.
ALTER TABLE build_request ADD COLUMN IF NOT EXISTS rejected_reason text;
CREATE INDEX IF NOT EXISTS build_request_submitted ON build_request (submitted_at DESC, build_id DESC);
