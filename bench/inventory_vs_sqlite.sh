#!/usr/bin/env bash
# custos inventory against plain sqlite3 .import of the same CSV.
#
# Generates the synthetic branch export with `custos sample`, then runs
#   custos inventory FILE --format json          (detect only, no storage)
#   sqlite3 :memory: -cmd '.mode csv' '.import FILE t'
# alternately RUNS times each, and prints the medians, the ratio and the peak
# resident memory (/usr/bin/time -v). The target (shared/design/performance.md):
# inventory faster than sqlite3, peak memory under 300 MB.
#
# Usage: bench/inventory_vs_sqlite.sh                  (1,000,000 rows, 3 runs)
#        ROWS=200000 RUNS=5 bench/inventory_vs_sqlite.sh
# Environment: BUILD (default build-release) or CUSTOS (path of the binary),
# ROWS, RUNS, SEED, KEEP_CSV=1 to keep the generated file.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"  # bench_init, bench_workdir, make_sample, timed, median
bench_init sqlite3 /usr/bin/time

bench_workdir KEEP_CSV
csv=$work/sample.csv

make_sample "$csv"
bytes=$(stat -c %s "$csv")

: >"$work/custos.txt"
: >"$work/sqlite.txt"
for ((i = 1; i <= runs; i++)); do
  timed "$custos" inventory "$csv" --format json >>"$work/custos.txt"
  if [ "$i" -eq 1 ]; then
    grep -q "\"rows\": $rows" "$work/out" || { echo "inventory did not report $rows rows" >&2; exit 1; }
  fi
  timed sqlite3 :memory: -cmd '.mode csv' ".import $csv t" >>"$work/sqlite.txt"
done

c_med=$(median_of "$work/custos.txt")
s_med=$(median_of "$work/sqlite.txt")
c_rss=$(peak_of "$work/custos.txt")
s_rss=$(peak_of "$work/sqlite.txt")

echo "inventory vs sqlite3 .import: $rows rows x 15 columns, $((bytes / 1000000)) MB, $runs runs each, $(nproc) cores"
printf '  %-22s %8s s (runs: %s)  peak RSS %d MB\n' "custos inventory" "$c_med" \
  "$(runs_of "$work/custos.txt")" "$((c_rss / 1024))"
printf '  %-22s %8s s (runs: %s)  peak RSS %d MB\n' "sqlite3 .import" "$s_med" \
  "$(runs_of "$work/sqlite.txt")" "$((s_rss / 1024))"
awk -v c="$c_med" -v s="$s_med" -v r="$rows" 'BEGIN {
  printf "  ratio custos/sqlite3: %.2f (%s); custos %.0f k rows/s, sqlite3 %.0f k rows/s\n",
    c / s, (c < s ? "faster: target met" : "slower: target missed"), r / c / 1000, r / s / 1000 }'
