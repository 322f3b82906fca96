# Shared by the server's end-to-end tests (sourced, not run). REQUIRES:
# $custos, a `pids` array (killed at exit), `fail` (people_lib.sh).

# start_server LOG ARGS...: runs `custos serve ARGS` in the background,
# its output in LOG.out and LOG.err; sets $url and $server_pid.
start_server() {
  local log=$1; shift
  "$custos" serve "$@" >"$log.out" 2>"$log.err" &
  pids+=($!)
  server_pid=$!
  for _ in $(seq 100); do
    url=$(sed -n 's/^custos serve: listening on \([^ ]*\) .*/\1/p' "$log.out")
    [ -n "$url" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$log.err" >&2; fail "the server exited"; }
    sleep 0.1
  done
  fail "the server did not start"
}
