#!/bin/sh
# compose's one-shot bus setup: the farm's RabbitMQ users and their permissions (scripts/rabbitmq-permissions.tsv,
# mounted at /setup), through the management API as admin, as ./farm up does; guest is never created (the broker's
# default user is admin). Passwords come from compose/.env (./farm compose-env writes it).
set -eu
api=${BUS_API:-http://rabbitmq:15672/api}
auth="admin:$BUILDFARM_BUS_ADMIN"
tab=$(printf '\t')
json() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
put() { # PATH JSON
  code=$(curl -s -o /dev/null -w '%{http_code}' -u "$auth" -X PUT -H 'content-type: application/json' --data-binary "$2" "$api/$1")
  case $code in 201|204) ;; *) echo "bus-setup: PUT $1 answered $code" >&2; exit 1 ;; esac
}
password() {
  case $1 in
    scheduler) echo "$BUILDFARM_BUS_SCHEDULER" ;; submission) echo "$BUILDFARM_BUS_SUBMISSION" ;;
    settings) echo "$BUILDFARM_BUS_SETTINGS" ;; publisher) echo "$BUILDFARM_BUS_PUBLISHER" ;;
    worker-*) echo "$BUILDFARM_BUS_WORKER" ;;
  esac
}
server=$(printf '%s' "$WORKER_SERVER_ID" | tr 'A-Z' 'a-z')
escaped=$(printf '%s' "$server" | sed 's/[.]/\\./g')
grep -v "^#" "${PERMISSIONS:-/setup/rabbitmq-permissions.tsv}" | while IFS="$tab" read -r user configure write read; do
  [ -n "$user" ] || continue
  name=$(printf '%s' "$user" | sed "s/{server}/$server/g")
  configure=$(printf '%s' "$configure" | sed "s/{server}/$escaped/g")
  write=$(printf '%s' "$write" | sed "s/{server}/$escaped/g")
  read=$(printf '%s' "$read" | sed "s/{server}/$escaped/g")
  put "users/$name" "{\"password\":$(json "$(password "$name")"),\"tags\":\"\"}"
  put "permissions/%2F/$name" "{\"configure\":$(json "$configure"),\"write\":$(json "$write"),\"read\":$(json "$read")}"
  echo "bus-setup: $name"
done
