#!/usr/bin/env bash
# Memory on large inputs: the bound "well under 300 MB whatever the file
# size" (issue: inventory and import).
#
# Runs, once each, with /usr/bin/time -v:
#   custos inventory and custos import on a ROWS-row sample (default 8M rows,
#     1.9 GB: the people tables and the import's grouping map spill to disk);
#   custos inventory and custos import on an XLSX_ROWS-row workbook (default
#     1M) whose every cell is a shared string (bench/csv_to_xlsx.py, ~7.5M
#     strings: the shared strings spill, sealed, to disk).
# Prints seconds and peak resident memory. Needs ~10 GB of free disk at the
# defaults (the CSV, the vault, the workbook) and python3.
#
# Usage: bench/large_files.sh
#        ROWS=4000000 XLSX_ROWS=200000 bench/large_files.sh
# Environment: BUILD or CUSTOS, ROWS, XLSX_ROWS, SEED, WORK=DIR (kept).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
ROWS=${ROWS:-8000000} bench_init python3 /usr/bin/time
xlsx_rows=${XLSX_ROWS:-1000000}
bench_workdir KEEP

head -c 32 /dev/urandom >"$work/key"
chmod 600 "$work/key"

report() {  # LABEL "SECONDS PEAK_KB"
  set -- "$1" $2
  printf '  %-40s %8s s  peak RSS %4d MB  %s\n' "$1" "$2" "$(($3 / 1024))" \
    "$([ "$3" -lt 300000 ] && echo "(under 300 MB)" || echo "(OVER 300 MB)")"
}

import_once() {  # FILE: into a fresh vault, then removes the vault
  rm -f "$work/v.vault"*
  "$custos" init --vault "$work/v.vault" --key-file "$work/key" >/dev/null
  timed "$custos" import "$1" --vault "$work/v.vault" --key-file "$work/key" --dataset crm \
    --no-progress
  rm -f "$work/v.vault"*
}

echo "large inputs, $(nproc) cores"
make_sample "$work/big.csv"
r=$(timed "$custos" inventory "$work/big.csv" --format json --no-progress)
report "inventory, $rows-row CSV" "$r"
r=$(import_once "$work/big.csv")
report "import, $rows-row CSV" "$r"
rm -f "$work/big.csv"

rows=$xlsx_rows make_sample "$work/x.csv"
strings=$(python3 "$root/bench/csv_to_xlsx.py" "$work/x.csv" "$work/x.xlsx")
rm -f "$work/x.csv"
r=$(timed "$custos" inventory "$work/x.xlsx" --format json --no-progress)
report "inventory, $xlsx_rows-row XLSX ($strings strings)" "$r"
r=$(import_once "$work/x.xlsx")
report "import, $xlsx_rows-row XLSX" "$r"
