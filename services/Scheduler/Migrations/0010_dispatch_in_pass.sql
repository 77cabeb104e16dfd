-- The dispatcher now makes the saga's Queued -> Dispatched transition itself, in the pass's transaction (issue 10):
-- there is no placement waiting for the saga to take it up any more, so no table of them.
DROP TABLE IF EXISTS build_assignment;
