-- A typed column the saga repository writes from the instance (PostgresSagaRepositoryOptions.Column).
ALTER TABLE counter_state ADD COLUMN count integer NOT NULL DEFAULT 0;
