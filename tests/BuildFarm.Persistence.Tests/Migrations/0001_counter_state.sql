-- The test saga's table: the DDL PostgresSagaStore<T>.CreateTableSql("counter_state") returns.
CREATE TABLE counter_state (
    correlation_id uuid        PRIMARY KEY,
    current_state  text        NOT NULL,
    version        integer     NOT NULL,
    data           jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX counter_state_current_state ON counter_state (current_state);
