#!/usr/bin/env bash
# Listing and status queries on a big farm's database, before and after the listing indexes (Scheduler 0008) and the
# taken_up mark (Submission 0006): starts a PostgreSQL 15 of its own (port $BENCH_PG_PORT, default 27433, state in a
# temporary folder), applies the Scheduler's migrations up to 0007 and Submission's up to 0005, fills it with
# fill.sql (100,000 queued + 300,000 finished builds), times each query with EXPLAIN (ANALYZE, BUFFERS) (median of 5
# runs after a warm-up; the slow "before" queries once after a warm-up), then applies the new migrations, marks the requests taken up (what TakenUpRequests does) and times
# the queries the code sends now. Prints a markdown table; with --plans DIR, writes each query's last plan there.
# usage: bench/Listing/listing.sh [--plans DIR]      (needs root: PostgreSQL runs as the postgres user)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"
bin=/usr/lib/postgresql/15/bin; port="${BENCH_PG_PORT:-27433}"; plans=""
[[ "${1:-}" == "--plans" ]] && plans="$2" && mkdir -p "$plans"
dir="$(mktemp -d /tmp/bf-listing.XXXXXX)"; chown postgres "$dir"
cleanup() { runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U buildfarm >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -o "-k $dir -c listen_addresses=127.0.0.1 -p $port -c shared_buffers=256MB" -l "$dir/log" -w start >/dev/null
psql() { "$bin/psql" -h 127.0.0.1 -p "$port" -U buildfarm -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
apply() { for f in "$@"; do psql -f "$f" >/dev/null; done; }

apply "$root"/services/Scheduler/Migrations/000[1-7]_*.sql "$root"/services/Submission/Migrations/000[1-5]_*.sql
start=$(date +%s.%N); psql -f "$here/fill.sql" >/dev/null; psql -c "VACUUM ANALYZE" >/dev/null
echo "filled in $(echo "$(date +%s.%N) - $start" | bc) s: $(psql -c "SELECT count(*) FROM build_state WHERE current_state = 'Queued'") queued, $(psql -c "SELECT count(*) FROM build_state WHERE current_state <> 'Queued'") finished" >&2

# "EXEC / PLAN": the medians of Execution Time and Planning Time (ms) of $RUNS runs, after one that warms the cache, of
# "PREPARE q AS <sql>; EXPLAIN (ANALYZE, BUFFERS) EXECUTE q(<args>)" (a custom plan each time, as Npgsql's unprepared
# statements get: the planning is part of each request's cost).
RUNS=5
time_query() {
  local name="$1" sql="$2" args="${3:+($3)}" exec=() plan_ms=() plan
  for _ in $(seq 0 "$RUNS"); do
    plan="$(psql -c "PREPARE q AS $sql" -c "EXPLAIN (ANALYZE, BUFFERS) EXECUTE q$args" -c "DEALLOCATE q")"
    exec+=("$(grep -oP 'Execution Time: \K[0-9.]+' <<<"$plan")")
    plan_ms+=("$(grep -oP 'Planning Time: \K[0-9.]+' <<<"$plan")")
  done
  [[ -n "$plans" ]] && printf '%s\n' "$plan" > "$plans/$name.txt"
  local mid=$(( (RUNS + 1) / 2 ))
  echo "$(printf '%s\n' "${exec[@]:1}" | sort -n | sed -n "${mid}p") / $(printf '%s\n' "${plan_ms[@]:1}" | sort -n | sed -n "${mid}p")"
}

# Before: the query BuildStore.ListAsync sent (a full outer join of build_view and build_request, filtered afterwards).
OLD_COLUMNS="SELECT COALESCE(v.build_id, r.build_id) AS id,
  COALESCE(v.state, CASE WHEN r.rejected_reason IS NULL THEN 'Queued' ELSE 'Rejected' END) AS state,
  COALESCE(v.submitted_at, r.submitted_at) AS submitted_at, COALESCE(v.architecture, r.request->>'targetArchitecture') AS architecture,
  v.server_id AS server, COALESCE(v.repository, r.request->>'sourceRepository') AS repository, COALESCE(v.submitted_by, r.submitted_by) AS submitter,
  COALESCE(v.priority, lower(COALESCE(r.request->>'priority', 'normal'))) AS priority,
  v.build_id IS NOT NULL AS taken_up, v.branch, v.commit_hash, v.spec_path, v.toolchain, v.requested_server_id,
  v.started_at, v.finished_at, v.attempt, v.reason, v.exit_code, v.duration, v.artifacts, v.history, r.request, r.rejected_reason, c.cleaned_at"
OLD_LIST="SELECT * FROM ($OLD_COLUMNS
  FROM build_view v FULL OUTER JOIN build_request r ON r.build_id = v.build_id
  LEFT JOIN build_cleanup c ON c.build_id = COALESCE(v.build_id, r.build_id)) b
 WHERE (\$1::text IS NULL OR b.state = \$1) AND (\$2::text IS NULL OR b.architecture = \$2) AND (\$3::text IS NULL OR b.server = \$3)
   AND (\$4::text IS NULL OR b.repository = \$4) AND (\$5::text IS NULL OR b.submitter = \$5) AND (\$6::text IS NULL OR b.priority = \$6)
   AND (\$7::timestamptz IS NULL OR b.submitted_at >= \$7) AND (\$8::timestamptz IS NULL OR b.submitted_at < \$8)
   AND (\$9::timestamptz IS NULL OR (b.submitted_at, b.id) < (\$9, \$10::uuid))
 ORDER BY b.submitted_at DESC, b.id DESC LIMIT \$11"
ONE_BUILD="$OLD_COLUMNS FROM (SELECT \$1::uuid AS id) k LEFT JOIN build_view v ON v.build_id = k.id
  LEFT JOIN build_request r ON r.build_id = k.id LEFT JOIN build_cleanup c ON c.build_id = k.id
 WHERE v.build_id IS NOT NULL OR r.build_id IS NOT NULL"
OLD_COUNT="SELECT (SELECT count(*) FROM build_view WHERE state = \$1) + (SELECT count(*) FROM build_request r
  WHERE r.rejected_reason IS NULL AND r.submitted_at > now() - interval '1 hour' AND NOT EXISTS (SELECT 1 FROM build_view v WHERE v.build_id = r.build_id))"
NEW_COUNT="SELECT (SELECT count(*) FROM build_view WHERE state = \$1) + (SELECT count(*) FROM build_request r
  WHERE NOT r.taken_up AND r.rejected_reason IS NULL AND r.submitted_at > now() - interval '1 hour' AND NOT EXISTS (SELECT 1 FROM build_view v WHERE v.build_id = r.build_id))"
# What the Scheduler's FarmSnapshot reads of the queue for every status request about a queued build.
QUEUE_READ="SELECT s.correlation_id, s.priority, s.submitted_by, s.submitted_at, s.architecture, s.toolchain,
  s.requested_server_id, s.repository, s.retry_at, s.attempt FROM build_state s
 WHERE s.current_state = 'Queued' AND NOT EXISTS (SELECT 1 FROM build_assignment a WHERE a.build_id = s.correlation_id AND s.attempt < a.attempt)"

# After: what BuildQueries.ListAsync sends for one filter ($1; none when empty), the cursor ($2, $3) when given, limit last.
new_list() { # column-of-view column-of-pending cursor?
  local vcol="$1" pcol="$2" cursor="${3:-}" vw="" pw="" n=1 limit
  if [[ -n "$vcol" ]]; then vw="WHERE $vcol = \$1"; pw="WHERE $pcol = \$1"; n=2; fi
  if [[ -n "$cursor" ]]; then
    vw="${vw:+$vw AND }(v.submitted_at, v.build_id) < (\$2, \$3)"; pw="${pw:+$pw AND }(p.submitted_at, p.id) < (\$2, \$3)"
    [[ "$vw" == WHERE* ]] || { vw="WHERE $vw"; pw="WHERE $pw"; }; n=4
  fi
  limit="\$$n"
  cat <<SQL
SELECT b.*, c.cleaned_at FROM (
 (SELECT v.build_id AS id, v.state, v.submitted_at, v.architecture, v.server_id AS server, v.repository, v.submitted_by AS submitter,
         v.priority, true AS taken_up, v.branch, v.commit_hash, v.spec_path, v.toolchain, v.requested_server_id, v.started_at,
         v.finished_at, v.attempt, v.reason, v.exit_code, v.duration, v.artifacts, v.history, NULL::jsonb AS request, NULL::text AS rejected_reason
    FROM build_view v $vw ORDER BY v.submitted_at DESC, v.build_id DESC LIMIT $limit)
 UNION ALL
 (SELECT * FROM (
    SELECT r.build_id AS id, CASE WHEN r.rejected_reason IS NULL THEN 'Queued' ELSE 'Rejected' END AS state, r.submitted_at,
           r.request->>'targetArchitecture' AS architecture, NULL::text AS server, r.request->>'sourceRepository' AS repository,
           r.submitted_by AS submitter, lower(COALESCE(r.request->>'priority', 'normal')) AS priority, false AS taken_up,
           NULL::text AS branch, NULL::text AS commit_hash, NULL::text AS spec_path, NULL::text AS toolchain, NULL::text AS requested_server_id,
           NULL::timestamptz AS started_at, NULL::timestamptz AS finished_at, NULL::int AS attempt, NULL::text AS reason,
           NULL::int AS exit_code, NULL::interval AS duration, NULL::jsonb AS artifacts, NULL::jsonb AS history, r.request, r.rejected_reason
      FROM build_request r WHERE NOT r.taken_up AND NOT EXISTS (SELECT 1 FROM build_view v WHERE v.build_id = r.build_id)) p
    $pw ORDER BY p.submitted_at DESC, p.id DESC LIMIT $limit)) b
 LEFT JOIN build_cleanup c ON c.build_id = b.id ORDER BY b.submitted_at DESC, b.id DESC LIMIT $limit
SQL
}

some_id="$(psql -c "SELECT md5('build' || 350000)::uuid")"
cursor_at="$(psql -c "SELECT submitted_at FROM build_state WHERE submitted_by = 'user7' ORDER BY submitted_at DESC, correlation_id DESC OFFSET 50 LIMIT 1")"
cursor_id="$(psql -c "SELECT correlation_id FROM build_state WHERE submitted_by = 'user7' ORDER BY submitted_at DESC, correlation_id DESC OFFSET 50 LIMIT 1")"
day_from="$(psql -c "SELECT now() - interval '12 days'")"; day_to="$(psql -c "SELECT now() - interval '11 days'")"
N="NULL"
declare -A before after
run_before() {
  before[none]=$(time_query before-none "$OLD_LIST" "$N,$N,$N,$N,$N,$N,$N,$N,$N,$N,51")
  before[submitter]=$(time_query before-submitter "$OLD_LIST" "$N,$N,$N,$N,'user7',$N,$N,$N,$N,$N,51")
  before[submitter-page2]=$(time_query before-submitter-page2 "$OLD_LIST" "$N,$N,$N,$N,'user7',$N,$N,$N,'$cursor_at','$cursor_id',51")
  before[state-queued]=$(time_query before-state-queued "$OLD_LIST" "'Queued',$N,$N,$N,$N,$N,$N,$N,$N,$N,51")
  before[state-failed]=$(time_query before-state-failed "$OLD_LIST" "'Failed',$N,$N,$N,$N,$N,$N,$N,$N,$N,51")
  before[architecture]=$(time_query before-architecture "$OLD_LIST" "$N,'s390x',$N,$N,$N,$N,$N,$N,$N,$N,51")
  before[server]=$(time_query before-server "$OLD_LIST" "$N,$N,'b7',$N,$N,$N,$N,$N,$N,$N,51")
  before[repository]=$(time_query before-repository "$OLD_LIST" "$N,$N,$N,'https://git.example.org/rpms/pkg123.git',$N,$N,$N,$N,$N,$N,51")
  before[priority-urgent]=$(time_query before-priority-urgent "$OLD_LIST" "$N,$N,$N,$N,$N,'urgent',$N,$N,$N,$N,51")
  before[from-to]=$(time_query before-from-to "$OLD_LIST" "$N,$N,$N,$N,$N,$N,'$day_from','$day_to',$N,$N,51")
  before[one-build]=$(time_query before-one-build "$ONE_BUILD" "'$some_id'")
  before[count-queued]=$(time_query before-count-queued "$OLD_COUNT" "'Queued'")
  before[scheduler-queue-read]=$(time_query before-scheduler-queue-read "$QUEUE_READ" "")
}
run_after() {
  after[none]=$(time_query after-none "$(new_list "" "")" "51")
  after[submitter]=$(time_query after-submitter "$(new_list v.submitted_by p.submitter)" "'user7',51")
  after[submitter-page2]=$(time_query after-submitter-page2 "$(new_list v.submitted_by p.submitter cursor)" "'user7','$cursor_at'::timestamptz,'$cursor_id'::uuid,51")
  after[state-queued]=$(time_query after-state-queued "$(new_list v.state p.state)" "'Queued',51")
  after[state-failed]=$(time_query after-state-failed "$(new_list v.state p.state)" "'Failed',51")
  after[architecture]=$(time_query after-architecture "$(new_list v.architecture p.architecture)" "'s390x',51")
  after[server]=$(time_query after-server "$(new_list v.server_id p.server)" "'b7',51")
  after[repository]=$(time_query after-repository "$(new_list v.repository p.repository)" "'https://git.example.org/rpms/pkg123.git',51")
  after[priority-urgent]=$(time_query after-priority-urgent "$(new_list v.priority p.priority)" "'urgent',51")
  after[from-to]=$(time_query after-from-to "$(sed 's/WHERE v.submitted_by = \$1/WHERE v.submitted_at >= $1 AND v.submitted_at < $2/; s/WHERE p.submitter = \$1/WHERE p.submitted_at >= $1 AND p.submitted_at < $2/; s/LIMIT \$2/LIMIT $3/g' <<<"$(new_list v.submitted_by p.submitter)")" "'$day_from'::timestamptz,'$day_to'::timestamptz,51")
  after[one-build]=$(time_query after-one-build "$ONE_BUILD" "'$some_id'")
  after[count-queued]=$(time_query after-count-queued "$NEW_COUNT" "'Queued'")
  after[scheduler-queue-read]=$(time_query after-scheduler-queue-read "$QUEUE_READ" "")
}

RUNS=1 run_before   # a full join over 400,000 builds takes seconds: one timed run each
start=$(date +%s.%N)
apply "$root/services/Scheduler/Migrations/0008_listing_indexes.sql" "$root/services/Submission/Migrations/0006_request_taken_up.sql"
psql -c "UPDATE build_request r SET taken_up = true WHERE EXISTS (SELECT 1 FROM build_view v WHERE v.build_id = r.build_id)" -c "VACUUM ANALYZE" >/dev/null
echo "new migrations and the taken_up mark in $(echo "$(date +%s.%N) - $start" | bc) s" >&2
run_after

echo "| query | before: execution / planning ms | after: execution / planning ms |"
echo "| --- | ---: | ---: |"
for k in none submitter submitter-page2 state-queued state-failed architecture server repository priority-urgent from-to one-build count-queued scheduler-queue-read; do
  echo "| $k | ${before[$k]} | ${after[$k]} |"
done
