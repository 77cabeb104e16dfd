# shellcheck shell=bash
# ./farm test: the test suite against test servers of its own (PostgreSQL, Redis, RabbitMQ; state in .farm/test), reused
# when they already run and otherwise stopped at the end; ends with the line "N passed, N failed" (scripts/trx-summary.py).
# The variables it reads are listed in `./farm help` (BUILDFARM_TEST_*).
#
# Sourced by ./farm, whose helpers it uses (plan_servers, start_servers_async, wait_servers, stop_started, dotnet_build,
# install_missing, ...; scripts/servers.sh for the servers). Run directly, it runs ./farm test with its arguments.

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  exec "$(dirname "${BASH_SOURCE[0]}")/../farm" test "$@"
fi

# The test servers' state folder and ports (STATE, PG_PORT, ...), and CONFIGURATION.
load_test_settings() {
  FARM_HOME=$(abs_dir "${BUILDFARM_HOME:-$ROOT/.farm}")
  STATE=$(abs_dir "${BUILDFARM_TEST_HOME:-$FARM_HOME/test}")
  EXT_POSTGRES=${BUILDFARM_TEST_POSTGRES:-}
  EXT_REDIS=${BUILDFARM_TEST_REDIS:-}
  EXT_RABBITMQ=${BUILDFARM_TEST_RABBITMQ:-}
  local pg=0 redis=0 rabbit=0
  postgres_running "$STATE" && pg=1
  pid_alive "$STATE/redis/redis.pid" redis-server && redis=1
  pid_alive "$STATE/rabbitmq/rabbit.pid" beam && rabbit=1
  PG_PORT=$(test_port $pg postgres "${BUILDFARM_TEST_PG_PORT:-}" 25432)
  REDIS_PORT=$(test_port $redis redis "${BUILDFARM_TEST_REDIS_PORT:-}" 26379)
  AMQP_PORT=$(test_port $rabbit rabbitmq-amqp "${BUILDFARM_TEST_AMQP_PORT:-}" 25680)
  AMQP_MGMT_PORT=$(test_port $rabbit rabbitmq-management "${BUILDFARM_TEST_AMQP_MANAGEMENT_PORT:-}" 25681)
  AMQP_DIST_PORT=$(test_port $rabbit rabbitmq-dist "${BUILDFARM_TEST_AMQP_DIST_PORT:-}" 25682)
  RABBIT_NODE=$(test_port $rabbit rabbitmq-node "${BUILDFARM_TEST_RABBITMQ_NODE:-}" rabbit-bftest@localhost)
  CONFIGURATION=${BUILDFARM_TEST_CONFIGURATION:-Debug}
}

# test_port RUNNING NAME EXPLICIT DEFAULT: the port (or node name) a test server uses: for one that runs,
# the one recorded when it was started; else the explicit one, else the default. repick_test_ports then
# moves a default that a program not ours holds (e.g. the test servers of another checkout) to the next
# free port below 32768 (RabbitMQ fails in the ephemeral range).
test_port() {
  local recorded=$STATE/ports/$2
  if [ "$1" = 1 ] && [ -s "$recorded" ]; then cat "$recorded"; return 0; fi
  if [ -n "$3" ]; then echo "$3"; return 0; fi
  echo "$4"
}

# Picks other ports for test servers that must start while their default port is taken.
repick_test_ports() {
  local taken=" " p var
  pick() { # current explicit-variable
    local port=$1
    if [ -n "${!2:-}" ] || ! { port_open "$port" || [[ $taken == *" $port "* ]]; }; then taken+="$port "; echo "$port"; return 0; fi
    while port_open "$port" || [[ $taken == *" $port "* ]]; do
      port=$((port + 1))
      [ $port -lt 32768 ] || die "no free port found for the test servers"
    done
    taken+="$port "
    echo "$port"
  }
  local wanted="$PG_PORT $REDIS_PORT $AMQP_PORT $AMQP_MGMT_PORT $AMQP_DIST_PORT $RABBIT_NODE"
  for p in "${TO_START_WANTED[@]}"; do
    case $p in
      postgres) PG_PORT=$(pick "$PG_PORT" BUILDFARM_TEST_PG_PORT); taken+="$PG_PORT " ;;
      redis) REDIS_PORT=$(pick "$REDIS_PORT" BUILDFARM_TEST_REDIS_PORT); taken+="$REDIS_PORT " ;;
      rabbitmq)
        AMQP_PORT=$(pick "$AMQP_PORT" BUILDFARM_TEST_AMQP_PORT); taken+="$AMQP_PORT "
        AMQP_MGMT_PORT=$(pick "$AMQP_MGMT_PORT" BUILDFARM_TEST_AMQP_MANAGEMENT_PORT); taken+="$AMQP_MGMT_PORT "
        AMQP_DIST_PORT=$(pick "$AMQP_DIST_PORT" BUILDFARM_TEST_AMQP_DIST_PORT); taken+="$AMQP_DIST_PORT "
        if [ -z "${BUILDFARM_TEST_RABBITMQ_NODE:-}" ]; then
          local base=${RABBIT_NODE%@*} host=${RABBIT_NODE#*@} n=2 node=$RABBIT_NODE
          while rabbit_node_taken "$node"; do node=$base-$n@$host; n=$((n + 1)); done
          RABBIT_NODE=$node
        fi
        ;;
    esac
  done
  unset -f pick
  [ "$wanted" = "$PG_PORT $REDIS_PORT $AMQP_PORT $AMQP_MGMT_PORT $AMQP_DIST_PORT $RABBIT_NODE" ] ||
    log "default test ports are taken by another program: the test servers use PostgreSQL $PG_PORT, Redis $REDIS_PORT, RabbitMQ $AMQP_PORT (management $AMQP_MGMT_PORT, dist $AMQP_DIST_PORT, node $RABBIT_NODE)"
}

cmd_test() {
  CMD="test"
  VAR_PREFIX=BUILDFARM_TEST_
  load_test_settings
  install_missing
  need_dotnet
  local started=$SECONDS

  # Which servers to start: those neither external nor already running from STATE.
  TO_START_WANTED=()
  if [ -z "$EXT_POSTGRES" ] && ! postgres_running "$STATE"; then TO_START_WANTED+=(postgres); fi
  if [ -z "$EXT_REDIS" ] && ! pid_alive "$STATE/redis/redis.pid" redis-server; then TO_START_WANTED+=(redis); fi
  if [ -z "$EXT_RABBITMQ" ] && ! pid_alive "$STATE/rabbitmq/rabbit.pid" beam; then TO_START_WANTED+=(rabbitmq); fi
  [ ${#TO_START_WANTED[@]} -eq 0 ] || repick_test_ports
  plan_servers

  trap cleanup_started EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  PG_FSYNC=${PG_FSYNC:-off} start_servers_async
  local results=$STATE/results
  mkdir -p "$STATE"
  dotnet_build "$CONFIGURATION" "$STATE/build.log"
  wait_servers
  record_test_ports
  [ ${#STARTED[@]} -eq 0 ] || log "test servers ready"

  export BUILDFARM_TEST_POSTGRES=${EXT_POSTGRES:-Host=127.0.0.1;Port=$PG_PORT;Username=buildfarm;Database=postgres}
  export BUILDFARM_TEST_REDIS=${EXT_REDIS:-127.0.0.1:$REDIS_PORT}
  export BUILDFARM_TEST_RABBITMQ=${EXT_RABBITMQ:-amqp://guest:guest@127.0.0.1:$AMQP_PORT/}
  export BUILDFARM_TEST_RABBITMQ_MANAGEMENT=${BUILDFARM_TEST_RABBITMQ_MANAGEMENT:-http://guest:guest@127.0.0.1:$AMQP_MGMT_PORT/}
  export BUILDFARM_REPO_ROOT=$ROOT
  export PATH=$ROOT/tests/mock:$PATH

  rm -rf "$results"
  mkdir -p "$results"
  log "running the tests (results in $results)"
  local code=0
  dotnet test "$ROOT/BuildFarm.sln" -c "$CONFIGURATION" --no-build --nologo \
    --logger "trx" --results-directory "$results" \
    --blame-hang-timeout "${BUILDFARM_TEST_HANG_TIMEOUT:-20m}" --blame-hang-dump-type none \
    "$@" || code=$?
  [ "${CI:-}" != true ] || dotnet build-server shutdown >/dev/null 2>&1 || true
  local summary verdict=0
  summary=$(python3 "$ROOT/scripts/trx-summary.py" "$results" "$code") || verdict=$?
  # Stop the servers this run started before the summary, so that its closing line is the last one.
  stop_started
  log "tests took $((SECONDS - started)) s in all"
  printf '%s\n' "$summary"
  exit $verdict
}

record_test_ports() {
  mkdir -p "$STATE/ports"
  local s
  for s in "${STARTED[@]+"${STARTED[@]}"}"; do
    case $s in
      postgres) echo "$PG_PORT" >"$STATE/ports/postgres" ;;
      redis) echo "$REDIS_PORT" >"$STATE/ports/redis" ;;
      rabbitmq)
        echo "$AMQP_PORT" >"$STATE/ports/rabbitmq-amqp"
        echo "$AMQP_MGMT_PORT" >"$STATE/ports/rabbitmq-management"
        echo "$AMQP_DIST_PORT" >"$STATE/ports/rabbitmq-dist"
        echo "$RABBIT_NODE" >"$STATE/ports/rabbitmq-node"
        ;;
    esac
  done
}

