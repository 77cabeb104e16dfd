# shellcheck shell=bash
# RabbitMQ users of a farm started by ./farm up: one per service (and one per build server), each with the
# permissions scripts/rabbitmq-permissions.tsv gives it, a `publisher` user for the bus door, and `admin` for
# the management UI. Passwords are generated once and kept in $FARM_HOME/secrets/rabbitmq/USER (mode 0600);
# `guest` is removed. Needs: FARM_HOME, AMQP_PORT, AMQP_MGMT_PORT, STATE, ROOT, log, die, rabbit_env.

bus_secret() { # USER: that user's password, made on first use
  local dir=$FARM_HOME/secrets/rabbitmq file
  file=$dir/$1
  if [ ! -s "$file" ]; then
    (umask 077; mkdir -p "$dir" && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file.tmp" && mv "$file.tmp" "$file")
  fi
  cat "$file"
}

# bus_uri USER: the amqp:// URI a service connects with (an external broker's URI is used as given).
bus_uri() {
  if [ -n "$EXT_RABBITMQ" ]; then echo "$EXT_RABBITMQ"; return 0; fi
  echo "amqp://$1:$(bus_secret "$1")@127.0.0.1:$AMQP_PORT/"
}

bus_api() { # METHOD PATH [JSON]: the management API as admin; prints the HTTP status
  local body=${3:-}
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -u "admin:$(bus_secret admin)" -X "$1" \
    -H 'content-type: application/json' ${body:+--data-binary "$body"} "http://127.0.0.1:$AMQP_MGMT_PORT/api/$2"
}

# bus_users SERVER_ID: creates or updates every user and its permissions on the default virtual host.
bus_users() {
  local server=$1 code
  [ -z "$EXT_RABBITMQ" ] || return 0
  if [ "$(bus_api GET whoami)" != 200 ]; then
    # The first time (or after the broker's state was reset): admin is made with rabbitmqctl, the rest through the API.
    ( rabbit_env "$STATE"
      rabbitmqctl -q add_user admin "$(bus_secret admin)" >/dev/null 2>&1 ||
        rabbitmqctl -q change_password admin "$(bus_secret admin)" >/dev/null
      rabbitmqctl -q set_user_tags admin administrator >/dev/null
      rabbitmqctl -q set_permissions -p / admin '.*' '.*' '.*' >/dev/null ) || die "could not create the RabbitMQ admin user"
    for _ in $(seq 50); do [ "$(bus_api GET whoami)" = 200 ] && break; sleep 0.2; done
  fi
  local tsv=$ROOT/scripts/rabbitmq-permissions.tsv name user_json permissions_json users=0 made=0
  while IFS=$'\t' read -r name _; do
    case $name in ''|'#'*) continue ;; esac
    bus_secret "${name//\{server\}/${server,,}}" >/dev/null
    users=$((users + 1))
  done <"$tsv"
  # One pass turns the permissions file into the management API's bodies: name, user, permissions.
  while IFS=$'\t' read -r name user_json permissions_json; do
    code=$(bus_api PUT "users/$name" "$user_json")
    case $code in 201|204) ;; *) die "RabbitMQ refused user $name (HTTP $code)" ;; esac
    code=$(bus_api PUT "permissions/%2F/$name" "$permissions_json")
    case $code in 201|204) ;; *) die "RabbitMQ refused the permissions of $name (HTTP $code)" ;; esac
    made=$((made + 1))
  done < <(python3 - "$server" "$FARM_HOME/secrets/rabbitmq" "$tsv" <<'PY'
import json, os, re, sys
server, secrets, tsv = sys.argv[1].lower(), sys.argv[2], sys.argv[3]
for line in open(tsv):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    user, *rights = line.split("\t")
    name = user.replace("{server}", server)
    configure, write, read = (r.replace("{server}", re.escape(server)) for r in rights)
    password = open(os.path.join(secrets, name)).read().strip()
    print(name, json.dumps({"password": password, "tags": ""}),
          json.dumps({"configure": configure, "write": write, "read": read}), sep="\t")
PY
)
  [ "$made" = "$users" ] || die "only $made of the $users RabbitMQ users in $tsv were set up"
  code=$(bus_api DELETE users/guest)
  case $code in 204|404) ;; *) die "could not remove RabbitMQ's guest user (HTTP $code)" ;; esac
}
