# shellcheck shell=bash
# Starts and stops the farm's servers (PostgreSQL, Redis, RabbitMQ) on loopback, all state in one folder.
# Sourced by ./farm. Every function takes the state folder first; ports come from the environment:
#   PG_PORT REDIS_PORT AMQP_PORT AMQP_MGMT_PORT AMQP_DIST_PORT RABBIT_NODE
# Processes are tracked and stopped by PID, never by name.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

log() { printf '[farm] %s\n' "$*" >&2; }
die() { printf '[farm] error: %s\n' "$*" >&2; exit 1; }

# pid_alive PIDFILE [PATTERN]: the process named by the file's first line runs (and its command line
# contains PATTERN, so a PID reused after a reboot is not taken for ours).
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid=$(head -n 1 "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  [ -z "${2:-}" ] || proc_matches "$pid" "$2"
}

proc_matches() { # pid pattern: the process's command line contains pattern
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# as_postgres CMD...: PostgreSQL refuses to run as root, so root runs it as the postgres user.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds what
  local i
  for ((i = 0; i < $2 * 10; i++)); do port_open "$1" && return 0; sleep 0.1; done
  die "$3 did not open port $1 within $2 s"
}

PACKAGES_FILE=${PACKAGES_FILE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/packages.txt}

# missing_packages: the packages of scripts/packages.txt that are not installed, one a line.
missing_packages() {
  local package probe found
  while read -r package probe _; do
    case $package in '' | '#'*) continue ;; esac
    # PG_BIN may point at a PostgreSQL installed elsewhere.
    [ "$package" != postgresql ] || [ ! -x "${PG_BIN:-}/initdb" ] || continue
    if [[ $probe == /* ]]; then
      # shellcheck disable=SC2086 # the probe may be a glob
      for found in $probe; do [ -x "$found" ] && continue 2; done
    elif command -v "$probe" >/dev/null; then
      continue
    fi
    echo "$package"
  done <"$PACKAGES_FILE"
}

# install_packages: installs what scripts/packages.txt lists and is missing (as root); without root, dies naming it.
install_packages() {
  local missing=()
  mapfile -t missing < <(missing_packages)
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (run as root once, or apt-get install them)"
  log "installing ${missing[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
}

# build_user_create: the unprivileged user build code runs as (Worker:Sandbox:User), in the group mock's users share.
BUILD_USER=${BUILD_USER:-buildfarm-build}
build_user_create() {
  [ "$(id -u)" = 0 ] || return 0
  getent group mock >/dev/null || groupadd --system mock
  if ! id -u "$BUILD_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$BUILD_USER" \
      || die "could not create the build user $BUILD_USER"
  fi
  id -nG "$BUILD_USER" | tr ' ' '\n' | grep -qx mock || usermod -a -G mock "$BUILD_USER"
}

# postgres_dir STATE: the folder PostgreSQL's files live in, normally STATE/postgres. The postgres user
# must reach it; when it cannot (e.g. a checkout under /root) or its socket path would be too long, the
# files live in /var/tmp/buildfarm-postgres-HASH and STATE/postgres is a symbolic link to that folder.
postgres_dir() { # state [create]
  local dir=$1/postgres
  if [ -L "$dir" ]; then readlink -f "$dir"; return 0; fi
  if [ "${2:-}" = create ] && [ ! -d "$dir" ] && [ "$(id -u)" = 0 ] && { ! runuser -u postgres -- test -x "$1" 2>/dev/null || [ ${#dir} -gt 90 ]; }; then
    local alt; alt=/var/tmp/buildfarm-postgres-$(printf %s "$dir" | sha256sum | cut -c1-12)
    mkdir -p "$alt"
    ln -sfn "$alt" "$dir"
    echo "$alt"
    return 0
  fi
  echo "$dir"
}

postgres_running() { pid_alive "$(postgres_dir "$1")/data/postmaster.pid" postgres; }

postgres_start() { # dir
  mkdir -p "$1"
  local dir; dir=$(postgres_dir "$1" create)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  if pid_alive "$dir/data/postmaster.pid" postgres; then return 0; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_postgres "$PG_BIN/initdb" -D "$dir/data" -A trust -U buildfarm -E UTF8 >"$dir/initdb.log" 2>&1 \
      || die "initdb failed: see $dir/initdb.log"
  fi
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" \
    -o "-k $dir -c listen_addresses=127.0.0.1 -p $PG_PORT -c max_connections=300 -c fsync=${PG_FSYNC:-on}" \
    -l "$dir/log" -w -t 60 start >/dev/null || die "PostgreSQL did not start: see $dir/log"
}

postgres_stop() {
  [ -e "$1/postgres" ] || return 0
  local dir; dir=$(postgres_dir "$1")
  pid_alive "$dir/data/postmaster.pid" postgres || return 0
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
}

# Redis keeps its data in an append-only file fsynced every second (appendfsync everysec): a Redis killed or restarted
# loses nothing it acknowledged (the file is written before the reply), a machine that crashes loses at most the last
# second. The semaphore rides out even a total loss (README: Reliability), but not without a pause.
redis_start() {
  local dir=$1/redis
  mkdir -p "$dir"
  pid_alive "$dir/redis.pid" redis-server && return 0
  rm -f "$dir/redis.pid"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly yes --appendfsync everysec >/dev/null \
    || die "Redis did not start: see $dir/redis.log"
  wait_port "$REDIS_PORT" 20 Redis
}

redis_stop() {
  local dir=$1/redis
  pid_alive "$dir/redis.pid" redis-server || return 0
  local pid; pid=$(cat "$dir/redis.pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

rabbit_env() {
  local rb=$1/rabbitmq
  export HOME=$rb RABBITMQ_CONFIG_FILE=$rb/rabbitmq.conf RABBITMQ_CONF_ENV_FILE=$rb/rabbitmq-env.conf \
    RABBITMQ_MNESIA_BASE=$rb/mnesia RABBITMQ_LOG_BASE=$rb/log RABBITMQ_ENABLED_PLUGINS_FILE=$rb/enabled_plugins \
    RABBITMQ_NODENAME=$RABBIT_NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_PID_FILE=$rb/rabbit.pid RABBITMQ_NODE_PORT=$AMQP_PORT RABBITMQ_DIST_PORT=$AMQP_DIST_PORT \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export PATH=/usr/lib/rabbitmq/bin:$PATH
}

rabbit_start() {
  local rb=$1/rabbitmq
  mkdir -p "$rb/log" "$rb/mnesia"
  pid_alive "$rb/rabbit.pid" beam && return 0
  rm -f "$rb/rabbit.pid"
  cat >"$rb/rabbitmq.conf" <<CONF
management.tcp.ip = 127.0.0.1
management.tcp.port = $AMQP_MGMT_PORT
loopback_users.guest = true
CONF
  # RABBIT_CONF_EXTRA: more lines for rabbitmq.conf (./farm bench shortens the statistics interval with it).
  [ -z "${RABBIT_CONF_EXTRA:-}" ] || printf '%s\n' "$RABBIT_CONF_EXTRA" >>"$rb/rabbitmq.conf"
  echo '[rabbitmq_management].' >"$rb/enabled_plugins"
  : >"$rb/rabbitmq-env.conf"
  (
    rabbit_env "$1"
    # epmd is started by the node if none runs; remember a new one so 'down' can stop it by PID.
    local had_epmd=0
    port_open 4369 && had_epmd=1
    setsid /usr/lib/rabbitmq/bin/rabbitmq-server >"$rb/out.log" 2>&1 </dev/null &
    echo $! >"$rb/launcher.pid"
    for _ in $(seq 600); do [ -s "$rb/rabbit.pid" ] && break; sleep 0.1; done
    rabbitmqctl -q wait --timeout 120 "$rb/rabbit.pid" >/dev/null 2>&1 || die "RabbitMQ did not start: see $rb/out.log"
    if [ $had_epmd = 0 ]; then
      pgrep -x -u "$(id -u)" epmd | head -n 1 >"$rb/epmd.pid" 2>/dev/null || true
    fi
  )
  wait_port "$AMQP_PORT" 60 RabbitMQ
}

rabbit_stop() {
  local rb=$1/rabbitmq
  if pid_alive "$rb/rabbit.pid" beam; then
    local pid; pid=$(cat "$rb/rabbit.pid")
    ( rabbit_env "$1"; rabbitmqctl -q stop "$rb/rabbit.pid" >/dev/null 2>&1 ) || kill "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  if [ -s "$rb/epmd.pid" ]; then
    # Stop epmd only if no other node is still registered with it.
    if ! pid_alive "$rb/epmd.pid" epmd; then
      rm -f "$rb/epmd.pid"
    elif ! (rabbit_env "$1"; epmd -names 2>/dev/null | grep -q '^name '); then
      kill "$(cat "$rb/epmd.pid")" 2>/dev/null || true
      rm -f "$rb/epmd.pid"
    fi
  fi
  rm -f "$rb/rabbit.pid" "$rb/launcher.pid"
}

servers_start() { # dir
  mkdir -p "$1"
  postgres_start "$1" & local pg=$!
  redis_start "$1" & local rd=$!
  rabbit_start "$1" & local rb=$!
  wait $pg || die "PostgreSQL failed"
  wait $rd || die "Redis failed"
  wait $rb || die "RabbitMQ failed"
}

servers_stop() {
  rabbit_stop "$1"
  redis_stop "$1"
  postgres_stop "$1"
}
