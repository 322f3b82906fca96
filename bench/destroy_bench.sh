#!/usr/bin/env bash
# Times `custos destroy execute` on a vault of N sample rows (default
# 1,000,000): nothing retained, so every person is crypto-shredded, the vault
# purged (VACUUM) and verified.
#
#   bench/destroy_bench.sh path/to/custos [ROWS]
set -euo pipefail
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
rows="${2:-1000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export CUSTOS_KEY_FILE="$work/k.key" CUSTOS_ACTOR=bench
"$custos" sample --rows "$rows" --seed 1 --today 2026-11-27 --out crm.csv 2>/dev/null
"$custos" init --vault v.vault >/dev/null
t0=$(date +%s.%N)
"$custos" import crm.csv --vault v.vault --dataset crm --no-progress >/dev/null 2>&1 ||
  "$custos" import crm.csv --vault v.vault --dataset crm >/dev/null
t1=$(date +%s.%N)
people=$("$custos" destroy plan --vault v.vault --today 2026-11-27 --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["people"]["destroyed"])')
size=$(stat -c %s v.vault)
t2=$(date +%s.%N)
"$custos" destroy execute --vault v.vault --approver A --supervisor B --supervisor C \
  --today 2026-11-27 >/dev/null
t3=$(date +%s.%N)
"$custos" audit verify --vault v.vault >/dev/null
python3 - "$rows" "$people" "$size" "$t0" "$t1" "$t2" "$t3" "$(stat -c %s v.vault)" <<'PY'
import sys
rows, people, size, t0, t1, t2, t3, after = sys.argv[1:]
print(f"rows {rows}, people {people}, vault {int(size)/1e6:.0f} MB -> {int(after)/1e6:.2f} MB")
print(f"import {float(t1)-float(t0):.1f} s; destroy execute {float(t3)-float(t2):.2f} s")
PY
