-- Requests accepted over HTTP, stored in the same transaction as the BuildRequested they publish, so a
-- build can be read back at once (before the Scheduler has taken it up) and a retried submission with the
-- same Idempotency-Key returns the same build.
CREATE TABLE IF NOT EXISTS build_request (
    build_id        uuid PRIMARY KEY,
    request         jsonb       NOT NULL,
    submitted_by    text        NOT NULL,
    submitted_at    timestamptz NOT NULL,
    idempotency_key text
);
CREATE UNIQUE INDEX IF NOT EXISTS build_request_idempotency
    ON build_request (submitted_by, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Build logs, batch by batch, as the workers stream them.
CREATE TABLE IF NOT EXISTS build_log (
    build_id   uuid        NOT NULL,
    attempt    integer     NOT NULL,
    stream     text        NOT NULL,
    sequence   bigint      NOT NULL,
    byte_offset bigint     NOT NULL,
    text       text        NOT NULL,
    at         timestamptz NOT NULL,
    id         bigserial,
    PRIMARY KEY (build_id, attempt, stream, sequence)
);
CREATE INDEX IF NOT EXISTS build_log_by_id ON build_log (build_id, id);
