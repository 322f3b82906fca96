#!/usr/bin/env bash
# custos import against plain sqlite3 .import of the same CSV into a file.
#
# Generates the synthetic branch export with `custos sample`, then runs
#   custos import FILE --vault V --dataset crm     (detection, per-person keys,
#                                                   field encryption, blind
#                                                   index, audit entry)
#   sqlite3 DB -cmd '.mode csv' '.import FILE t'   (text columns, nothing else)
# alternately RUNS times each, each into a fresh vault or database file in
# the same directory, and prints the medians, the ratio of rows per second
# and the peak resident memory (/usr/bin/time -v). The target
# (shared/design/performance.md): custos at least half the rows per second
# of sqlite3, peak memory under 300 MB.
#
# Usage: bench/import_vs_sqlite.sh                  (1,000,000 rows, 3 runs)
#        ROWS=200000 RUNS=5 bench/import_vs_sqlite.sh
# Environment: BUILD (default build-release) or CUSTOS (path of the binary),
# ROWS, RUNS, SEED, KEEP=1 to keep the work directory.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"  # bench_init, bench_workdir, make_sample, timed, median
bench_init sqlite3 /usr/bin/time

bench_workdir
csv=$work/sample.csv

make_sample "$csv"
bytes=$(stat -c %s "$csv")


head -c 32 /dev/urandom >"$work/key"
chmod 600 "$work/key"
: >"$work/custos.txt"
: >"$work/sqlite.txt"
for ((i = 1; i <= runs; i++)); do
  rm -f "$work/vault" "$work/vault-wal" "$work/vault-shm" "$work/vault-journal"
  "$custos" init --vault "$work/vault" --key-file "$work/key" >/dev/null
  timed "$custos" import "$csv" --vault "$work/vault" --key-file "$work/key" --dataset crm \
    --no-progress >>"$work/custos.txt"
  imported=$(sed -n 's/^Imported \([0-9]*\) rows.*/\1/p' "$work/out")

  rm -f "$work/plain.db" "$work/plain.db-journal"
  timed sqlite3 "$work/plain.db" -cmd '.mode csv' ".import $csv t" >>"$work/sqlite.txt"
  plain=$(sqlite3 "$work/plain.db" 'SELECT count(*) FROM t')
  if [ "$imported" != "$plain" ]; then
    echo "custos imported $imported rows, sqlite3 $plain: not the same work" >&2
    exit 1
  fi
done
vault_mb=$(($(stat -c %s "$work/vault") / 1000000))
plain_mb=$(($(stat -c %s "$work/plain.db") / 1000000))

c_med=$(median_of "$work/custos.txt")
s_med=$(median_of "$work/sqlite.txt")
c_rss=$(peak_of "$work/custos.txt")
s_rss=$(peak_of "$work/sqlite.txt")

echo "import vs sqlite3 .import: $plain rows x 15 columns, $((bytes / 1000000)) MB CSV, $runs runs each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-16s %8s s (runs: %s)  peak RSS %d MB, file %d MB\n' "custos import" "$c_med" \
  "$(runs_of "$work/custos.txt")" "$((c_rss / 1024))" "$vault_mb"
printf '  %-16s %8s s (runs: %s)  peak RSS %d MB, file %d MB\n' "sqlite3 .import" "$s_med" \
  "$(runs_of "$work/sqlite.txt")" "$((s_rss / 1024))" "$plain_mb"
awk -v c="$c_med" -v s="$s_med" -v r="$plain" 'BEGIN {
  printf "  custos %.0f k rows/s, sqlite3 %.0f k rows/s: ratio %.2f of sqlite3 (%s)\n",
    r / c / 1000, r / s / 1000, s / c, (s / c >= 0.5 ? "target 0.5 met" : "target 0.5 missed") }'
