-- Registered projects: a repository, a branch and the parameters of the builds made from it. The sync service
-- checks each one with git ls-remote and submits a build whenever the branch head moves past last_seen_commit.
CREATE TABLE IF NOT EXISTS project (
    id               uuid PRIMARY KEY,
    name             text        NOT NULL UNIQUE,
    repository       text        NOT NULL,
    branch           text        NOT NULL,
    -- targetArchitecture, toolchain, specPath, priority, serverId (camelCase, as in the API)
    parameters       jsonb       NOT NULL,
    owner            text        NOT NULL,
    created_at       timestamptz NOT NULL,
    last_checked_at  timestamptz,
    last_seen_commit text,
    last_build_id    uuid,
    last_error       text
);
-- The sync pass picks the projects whose last check is older than the interval (never checked first).
CREATE INDEX IF NOT EXISTS project_last_checked ON project (last_checked_at NULLS FIRST);
