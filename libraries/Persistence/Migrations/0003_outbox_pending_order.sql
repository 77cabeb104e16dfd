-- The relay claims the oldest pending row of each source in id order: walking this index it stops after the first few
-- sources instead of grouping every pending row (with 53,000 pending rows from as many sources, one per accepted
-- submission, that grouping took 430 ms per claim and held a mass rebuild's relay to some 80 messages a second).
CREATE INDEX IF NOT EXISTS outbox_message_pending_order ON outbox_message (owner, id) WHERE delivered_at IS NULL;
