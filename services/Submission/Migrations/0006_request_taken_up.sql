-- A request the Scheduler has taken up reads from its read model (build_view); only the others are read from
-- build_request. taken_up marks the former (TakenUpRequests sets it shortly after the Scheduler took a request up), so
-- the listing finds the requests not taken up (a few: those in flight, and refused ones) in a small partial index instead
-- of checking every request against build_view. A request whose mark is late is still checked against build_view.
ALTER TABLE build_request ADD COLUMN IF NOT EXISTS taken_up boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS build_request_not_taken_up ON build_request (submitted_at DESC, build_id DESC) WHERE NOT taken_up;
