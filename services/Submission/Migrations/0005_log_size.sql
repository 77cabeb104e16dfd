-- How much log text each attempt has stored, so that the farm's maxLogBytesPerAttempt is applied batch by batch: a
-- batch locks its attempt's row (concurrent batches of one attempt take turns), and once the cap is reached the row is
-- marked truncated, a marker line is stored once and every later batch of that attempt is dropped.
CREATE TABLE IF NOT EXISTS build_log_size (
    build_id  uuid    NOT NULL,
    attempt   integer NOT NULL,
    bytes     bigint  NOT NULL DEFAULT 0,
    truncated boolean NOT NULL DEFAULT false,
    PRIMARY KEY (build_id, attempt)
);
INSERT INTO build_log_size (build_id, attempt, bytes)
SELECT build_id, attempt, sum(octet_length(text)) FROM build_log GROUP BY build_id, attempt
ON CONFLICT DO NOTHING;
