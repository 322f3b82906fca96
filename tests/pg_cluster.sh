#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: initdb into a temporary
# directory, listening only on a unix socket in it, run as an unprivileged
# user (root runs it as `nobody`), stopped and removed by `stop`.
#
#   tests/pg_cluster.sh start URI_FILE   # writes the admin URI to URI_FILE
#   tests/pg_cluster.sh stop URI_FILE    # stops the cluster, removes it
#
# The URI names the cluster's superuser (custos_admin, trust over the
# socket only), with which the tests create their databases, each owned by
# custos_vault, a role without superuser rights.
set -euo pipefail

cmd=${1:-}
uri_file=${2:-}
[ -n "$cmd" ] && [ -n "$uri_file" ] || { echo "usage: $0 start|stop URI_FILE" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "no PostgreSQL server (scripts/bootstrap installs postgresql)" >&2; exit 1; }
port=54329

as_owner() {  # runs a command as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    if [ -f "$uri_file" ]; then "$0" stop "$uri_file" || true; fi
    dir=$(mktemp -d /tmp/custos-pg-XXXXXX)
    chmod 0755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U custos_admin --auth=trust --no-sync \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-k $dir -c listen_addresses='' -p $port -c fsync=off -c max_connections=200" \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    uri="postgresql://custos_admin@/postgres?host=$dir&port=$port"
    # The role vaults are owned by in the tests: no superuser rights.
    "$bin/psql" -q -v ON_ERROR_STOP=1 "$uri" \
      -c "CREATE ROLE custos_vault LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" >/dev/null
    echo "$uri" >"$uri_file"
    echo "$dir" >"$uri_file.dir"
    ;;
  stop)
    [ -f "$uri_file.dir" ] || exit 0
    dir=$(cat "$uri_file.dir")
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir" "$uri_file" "$uri_file.dir"
    ;;
  *)
    echo "usage: $0 start|stop URI_FILE" >&2
    exit 2
    ;;
esac
