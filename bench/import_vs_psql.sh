#!/usr/bin/env bash
# custos import into a vault in PostgreSQL against `psql \copy` of the same
# CSV into a plain table of the same database cluster.
#
#   custos import FILE --vault postgresql://... --dataset crm   (detection,
#                     per-person keys, field encryption, blind index, audit)
#   psql -c "\copy t FROM FILE (FORMAT csv, HEADER)"            (15 text
#                     columns, nothing else)
#
# alternately RUNS times each, each into a fresh database, and prints the
# medians and the ratio of rows per second. The goal (issue: PostgreSQL):
# custos at least half the rows per second of psql \copy.
#
# The cluster: PG_ADMIN_URI (a superuser's URI) if set; else a throwaway one
# started here with tests/pg_cluster.sh (initdb in a temporary directory, a
# unix socket only; fsync off, as for the tests: it measures the client
# side and the server's work, not the disk) and removed at the end.
#
# Usage: bench/import_vs_psql.sh                  (1,000,000 rows, 3 runs)
#        ROWS=200000 RUNS=3 bench/import_vs_psql.sh
# Environment: BUILD (default build-release) or CUSTOS, ROWS, RUNS, SEED,
# KEEP=1 to keep the work directory, PG_ADMIN_URI.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_init psql /usr/bin/time

bench_workdir
csv=$work/sample.csv
make_sample "$csv"
bytes=$(stat -c %s "$csv")

admin=${PG_ADMIN_URI:-}
if [ -z "$admin" ]; then
  "$root/tests/pg_cluster.sh" start "$work/pg.uri"
  trap '"$root/tests/pg_cluster.sh" stop "$work/pg.uri"; bench_cleanup' EXIT
  admin=$(cat "$work/pg.uri")
fi
query="${admin#*\?}"
sql() { psql -X -q -v ON_ERROR_STOP=1 -At "$admin" "$@"; }
fresh_db() {  # fresh_db NAME: a new database owned by custos_vault; prints its URI
  sql -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 OWNER custos_vault" >/dev/null
  echo "postgresql://custos_vault@/$1?$query"
}
sql -c "DO \$\$BEGIN CREATE ROLE custos_vault LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$" >/dev/null

head -c 32 /dev/urandom >"$work/key"
chmod 600 "$work/key"
columns=$(head -1 "$csv" | sed 's/^\xEF\xBB\xBF//' | tr ',' '\n' | awk '{ printf "%sc%d text", (NR > 1 ? ", " : ""), NR }')
: >"$work/custos.txt"
: >"$work/psql.txt"
for ((i = 1; i <= runs; i++)); do
  vault=$(fresh_db bench_vault)
  "$custos" init --vault "$vault" --key-file "$work/key" >/dev/null
  timed "$custos" import "$csv" --vault "$vault" --key-file "$work/key" --dataset crm \
    --no-progress >>"$work/custos.txt"
  imported=$(sed -n 's/^Imported \([0-9]*\) rows.*/\1/p' "$work/out")

  plain=$(fresh_db bench_plain)
  psql -X -q "$plain" -c "CREATE TABLE t ($columns)"
  timed psql -X -q "$plain" -c "\\copy t FROM '$csv' (FORMAT csv, HEADER)" >>"$work/psql.txt"
  copied=$(psql -X -At "$plain" -c 'SELECT count(*) FROM t')
  if [ "$imported" != "$copied" ]; then
    echo "custos imported $imported rows, psql $copied: not the same work" >&2
    exit 1
  fi
done
vault_mb=$(sql -c "SELECT pg_database_size('bench_vault') / 1000000")
plain_mb=$(sql -c "SELECT pg_database_size('bench_plain') / 1000000")

c_med=$(median_of "$work/custos.txt")
p_med=$(median_of "$work/psql.txt")
c_rss=$(peak_of "$work/custos.txt")

echo "import into PostgreSQL vs psql \\copy: $copied rows x 15 columns, $((bytes / 1000000)) MB CSV, $runs runs each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-16s %8s s (runs: %s)  peak RSS %d MB, database %d MB\n' "custos import" "$c_med" \
  "$(runs_of "$work/custos.txt")" "$((c_rss / 1024))" "$vault_mb"
printf '  %-16s %8s s (runs: %s)  database %d MB\n' "psql \\copy" "$p_med" \
  "$(runs_of "$work/psql.txt")" "$plain_mb"
awk -v c="$c_med" -v s="$p_med" -v r="$copied" 'BEGIN {
  printf "  custos %.0f k rows/s, psql %.0f k rows/s: ratio %.2f of psql \\copy (%s)\n",
    r / c / 1000, r / s / 1000, s / c, (s / c >= 0.5 ? "goal 0.5 met" : "goal 0.5 missed") }'
