-- A big farm's database for bench/Listing/listing.sh: 300,000 finished and 100,000 queued builds in the Scheduler's
-- build_state (typed columns and saga data), every one also in Submission's build_request as if submitted over HTTP,
-- plus 50 requests the Scheduler has not taken up yet. Run after the Scheduler's and Submission's migrations.
-- 200 submitters (user0..user199) share the history; the newest 100,000 (queued) are one mass rebuild by "releng".
INSERT INTO build_state (correlation_id, current_state, version, data, created_at, updated_at,
                         attempt, server_id, priority, submitted_by, submitted_at, architecture, toolchain, repository,
                         requested_server_id, dispatched_at, started_at, finished_at, duration, reason)
SELECT md5('build' || i)::uuid,
       CASE WHEN i > 300000 THEN 'Queued' WHEN i % 10 = 0 THEN 'Failed' ELSE 'Completed' END,
       3,
       jsonb_build_object(
           'Branch', 'rawhide', 'CommitHash', md5('commit' || i) || '00000000', 'SpecPath', NULL,
           'History', CASE WHEN i > 300000
               THEN jsonb_build_array(jsonb_build_object('At', t.at, 'State', 'Queued', 'Attempt', 0, 'ServerId', NULL, 'Reason', NULL))
               ELSE jsonb_build_array(
                   jsonb_build_object('At', t.at, 'State', 'Queued', 'Attempt', 0, 'ServerId', NULL, 'Reason', NULL),
                   jsonb_build_object('At', t.at + interval '1 minute', 'State', 'Dispatched', 'Attempt', 1, 'ServerId', 'b' || (i % 50), 'Reason', NULL),
                   jsonb_build_object('At', t.at + interval '2 minutes', 'State', 'Building', 'Attempt', 1, 'ServerId', 'b' || (i % 50), 'Reason', NULL),
                   jsonb_build_object('At', t.at + interval '10 minutes', 'State', 'Completed', 'Attempt', 1, 'ServerId', 'b' || (i % 50), 'Reason', NULL)) END,
           'Artifacts', CASE WHEN i > 300000 THEN '[]'::jsonb
               ELSE jsonb_build_array(jsonb_build_object('Name', 'pkg' || (i % 20000) || '-1.0-1.x86_64.rpm', 'Size', 123456, 'Sha256', encode(sha256(('a' || i)::bytea), 'hex'), 'Kind', 'rpm')) END),
       t.at, t.at + CASE WHEN i > 300000 THEN interval '0' ELSE interval '10 minutes' END,
       CASE WHEN i > 300000 THEN 0 ELSE 1 END,
       CASE WHEN i > 300000 THEN NULL ELSE 'b' || (i % 50) END,
       CASE WHEN i % 100 = 0 THEN 'urgent' WHEN i % 10 = 0 THEN 'high' WHEN i % 3 = 0 THEN 'low' ELSE 'normal' END,
       CASE WHEN i > 300000 THEN 'releng' ELSE 'user' || (i % 200) END,
       t.at,
       (ARRAY['x86_64', 'aarch64', 'ppc64le', 's390x'])[1 + i % 4],
       'mock',
       'https://git.example.org/rpms/pkg' || (i % 20000) || '.git',
       NULL,
       CASE WHEN i > 300000 THEN NULL ELSE t.at + interval '1 minute' END,
       CASE WHEN i > 300000 THEN NULL ELSE t.at + interval '2 minutes' END,
       CASE WHEN i > 300000 THEN NULL ELSE t.at + interval '10 minutes' END,
       CASE WHEN i > 300000 THEN NULL ELSE interval '8 minutes' END,
       NULL
  FROM generate_series(1, 400000) AS i
 CROSS JOIN LATERAL (SELECT now() - interval '30 days' + i * interval '6 seconds' AS at) t;

INSERT INTO build_request (build_id, request, submitted_by, submitted_at, idempotency_key)
SELECT s.correlation_id,
       jsonb_build_object('buildId', s.correlation_id, 'sourceRepository', s.repository, 'branch', 'rawhide',
                          'commitHash', s.data->>'CommitHash', 'targetArchitecture', s.architecture, 'toolchain', s.toolchain,
                          'priority', s.priority, 'submittedBy', s.submitted_by, 'submittedAt', s.submitted_at),
       s.submitted_by, s.submitted_at, NULL
  FROM build_state s;

-- In flight: accepted here, not taken up by the Scheduler yet.
INSERT INTO build_request (build_id, request, submitted_by, submitted_at, idempotency_key)
SELECT md5('pending' || i)::uuid,
       jsonb_build_object('sourceRepository', 'https://git.example.org/rpms/new' || i || '.git', 'branch', 'rawhide',
                          'commitHash', md5('p' || i) || '00000000', 'targetArchitecture', 'x86_64', 'toolchain', 'mock',
                          'priority', 'normal', 'submittedBy', 'releng'),
       'releng', now(), NULL
  FROM generate_series(1, 50) AS i;

INSERT INTO build_server (server_id, host, architectures, toolchains, max_concurrent, active_builds, cpu_percent,
                          memory_percent, disk_percent, maintenance, version, heartbeat_interval, first_seen, last_seen, online)
SELECT 'b' || i, 'host' || i, ARRAY['x86_64', 'aarch64', 'ppc64le', 's390x'], ARRAY['mock'], 4, 0, 10, 10, 10, false, '1',
       interval '5 seconds', now(), now(), true
  FROM generate_series(0, 49) AS i;
