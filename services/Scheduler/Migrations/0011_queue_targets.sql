-- Queued builds by what they need (architecture, toolchain): a pass asks first whether any queued build could go to a
-- server with a free slot, so a queue no free server can serve (a mass rebuild for an architecture whose servers are
-- all busy or away) costs a pass one index look-up per pair, not a read of the whole queue.
CREATE INDEX IF NOT EXISTS build_state_queue_target
    ON build_state (architecture, toolchain)
    WHERE current_state = 'Queued';
