-- Rows a saga activity writes through PostgresSession, in the consume transaction.
CREATE TABLE counter_note (
    counter_id   uuid    NOT NULL,
    increment_id uuid    NOT NULL PRIMARY KEY
);
