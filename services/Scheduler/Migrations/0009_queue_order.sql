-- The queue in an order the database can use. The dispatch order (Dispatch/QueueOrder) ranks by effective
-- priority (priority raised by age), then submitters' turns, then arrival. Within one (submitter, priority)
-- the oldest build always comes first, so the first K builds of the whole order are among the first K of
-- each (submitter, priority): the dispatcher reads only those, through this index, and a pass costs what the
-- free slots ask for, not what the queue holds.
CREATE INDEX IF NOT EXISTS build_state_queue
    ON build_state (submitted_by, priority, submitted_at, correlation_id)
    WHERE current_state = 'Queued';
-- Builds in a retry backoff: when the next one ends.
CREATE INDEX IF NOT EXISTS build_state_retry
    ON build_state (retry_at)
    WHERE current_state = 'Queued' AND retry_at IS NOT NULL;
-- Builds dispatched since a moment, per submitter (the submitters' turns while the queue waited), index-only.
CREATE INDEX IF NOT EXISTS build_state_dispatched
    ON build_state (dispatched_at, submitted_by)
    WHERE dispatched_at IS NOT NULL;
