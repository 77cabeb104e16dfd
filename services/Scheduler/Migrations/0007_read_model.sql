-- The Scheduler's read model for other services (Submission): what they may read of builds and build servers.
-- Its shape is a contract, documented here and held by a Scheduler test (Storing_a_build); the saga's own
-- table and JSON are the Scheduler's alone and may change with it.
--
-- build_view: one row per build the Scheduler took up.
--   build_id uuid, state text (BuildStates), attempt int (0 until first dispatched), server_id text (current attempt's),
--   priority text (low|normal|high|urgent), submitted_by text, submitted_at timestamptz, architecture text,
--   toolchain text, repository text, branch text, commit_hash text, spec_path text, requested_server_id text,
--   started_at timestamptz, finished_at timestamptz, reason text, exit_code int, duration interval,
--   artifacts jsonb: [{"name", "size", "sha256", "kind"}],
--   history jsonb: [{"at", "state", "attempt", "serverId", "reason"}] in the order of the transitions,
--   updated_at timestamptz.
CREATE OR REPLACE VIEW build_view AS
SELECT s.correlation_id AS build_id,
       s.current_state  AS state,
       s.attempt,
       s.server_id,
       s.priority,
       s.submitted_by,
       s.submitted_at,
       s.architecture,
       s.toolchain,
       s.repository,
       s.data->>'Branch'      AS branch,
       s.data->>'CommitHash'  AS commit_hash,
       s.data->>'SpecPath'    AS spec_path,
       s.requested_server_id,
       s.started_at,
       s.finished_at,
       s.reason,
       (s.data->>'ExitCode')::int AS exit_code,
       s.duration,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('name', a->'Name', 'size', a->'Size', 'sha256', a->'Sha256', 'kind', a->'Kind') ORDER BY i)
                   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.data->'Artifacts') = 'array' THEN s.data->'Artifacts' ELSE '[]' END)
                        WITH ORDINALITY AS x(a, i)), '[]') AS artifacts,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('at', h->'At', 'state', h->'State', 'attempt', h->'Attempt',
                                                     'serverId', h->'ServerId', 'reason', h->'Reason') ORDER BY i)
                   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.data->'History') = 'array' THEN s.data->'History' ELSE '[]' END)
                        WITH ORDINALITY AS x(h, i)), '[]') AS history,
       s.updated_at
  FROM build_state s;

-- build_server_view: one row per build server that has sent a heartbeat.
--   server_id text, host text, architectures text[], toolchains text[], max_concurrent int, active_builds int (as the
--   server reported), cpu_percent real, memory_percent real, disk_percent real, maintenance boolean, version text,
--   last_seen timestamptz, online boolean (and heard from within three heartbeat intervals), assigned_builds int
--   (builds the Scheduler has on it: dispatched, building or being cancelled).
CREATE OR REPLACE VIEW build_server_view AS
SELECT v.server_id, v.host, v.architectures, v.toolchains, v.max_concurrent, v.active_builds,
       v.cpu_percent, v.memory_percent, v.disk_percent, v.maintenance, v.version, v.last_seen,
       v.online AND v.last_seen > now() - v.heartbeat_interval * 3 AS online,
       (SELECT count(*)::int FROM build_state b
         WHERE b.current_state IN ('Dispatched', 'Building', 'Cancelling') AND b.server_id = v.server_id) AS assigned_builds
  FROM build_server v;
