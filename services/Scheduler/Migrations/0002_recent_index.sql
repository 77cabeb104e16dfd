-- Builds touched recently: the dispatcher counts each submitter's recent dispatches for turn-taking.
CREATE INDEX IF NOT EXISTS build_state_updated ON build_state (updated_at);
