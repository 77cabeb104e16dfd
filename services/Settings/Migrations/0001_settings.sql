-- The farm's one settings record (id = 1; the service inserts the defaults at start) and its audit trail.
CREATE TABLE farm_settings (
    id          integer     PRIMARY KEY CHECK (id = 1),
    settings    jsonb       NOT NULL,
    revision    bigint      NOT NULL CHECK (revision > 0),
    updated_by  text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every change of the settings (action 'update', with the old and new record) and every admin action on the
-- build-slot semaphore ('release', 'clear', with what it freed in details). Newest first by id.
CREATE TABLE farm_settings_history (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action          text        NOT NULL CHECK (action IN ('update', 'release', 'clear')),
    revision        bigint      NOT NULL,
    changed_by      text        NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now(),
    changed_fields  text[]      NOT NULL DEFAULT '{}',
    old_value       jsonb,
    new_value       jsonb,
    details         jsonb
);
