#!/usr/bin/env bash
# What the log path's sender check costs in PostgreSQL: 2,000 log batches stored with the plain INSERT the
# gateway used before, then 2,000 with the check that the build's history shows the sending server holding the
# attempt (BuildStore.AppendLogAsync), inside one transaction that is rolled back. Needs a farm from ./farm up
# with at least one finished build. Usage: bench/LogAppend/log-append.sh [runs]
set -euo pipefail
psql=$(ls /usr/lib/postgresql/*/bin/psql | head -n 1)
q() { "$psql" -h 127.0.0.1 -p "${BUILDFARM_PG_PORT:-5432}" -U buildfarm -d buildfarm -qtAX "$@"; }
read -r build server attempt < <(q -F ' ' -c "SELECT correlation_id, data->>'ServerId', (data->>'Attempt')::int FROM build_state
  WHERE data->>'ServerId' IS NOT NULL AND (data->>'Attempt')::int > 0 LIMIT 1")
[ -n "${build:-}" ] || { echo "no build with a server in this farm: submit one first" >&2; exit 1; }
for _ in $(seq "${1:-3}"); do
  q 2>&1 <<SQL | grep -o '[a-z ]*: [0-9]* us per batch' | paste -sd ';'
BEGIN;
DO \$\$
DECLARE s timestamptz; n int := 2000; i int; c int;
BEGIN
  s := clock_timestamp();
  FOR i IN 1..n LOOP
    WITH stored AS (INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at)
      VALUES ('$build', $attempt, 'bench', 100000 + i, 0, 'line', now()) ON CONFLICT DO NOTHING RETURNING build_id)
    SELECT count(*) INTO STRICT c FROM stored;
  END LOOP;
  RAISE NOTICE 'plain insert: % us per batch', round(extract(epoch FROM clock_timestamp() - s) * 1e6 / n);
  s := clock_timestamp();
  FOR i IN 1..n LOOP
    WITH holder AS (SELECT 1 FROM build_state WHERE correlation_id = '$build'
           AND data->'History' @> jsonb_build_array(jsonb_build_object('Attempt', $attempt, 'ServerId', '$server'::text))),
    stored AS (INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at)
      SELECT '$build', $attempt, 'bench', 200000 + i, 0, 'line', now() WHERE EXISTS (SELECT 1 FROM holder)
      ON CONFLICT DO NOTHING RETURNING build_id)
    SELECT count(*) INTO STRICT c FROM stored;
  END LOOP;
  RAISE NOTICE 'with holder check: % us per batch', round(extract(epoch FROM clock_timestamp() - s) * 1e6 / n);
END \$\$;
ROLLBACK;
SQL
done
