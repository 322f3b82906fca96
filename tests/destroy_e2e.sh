#!/usr/bin/env bash
# End to end: retention, destruction with a certificate, the deregistration
# check, driven through the real binary.
#
#   tests/destroy_e2e.sh path/to/custos
#
# 1. A sample branch export is imported; part of it is bound to a retention
#    rule (e-commerce transactions, 3 years from 开户日期), so people whose
#    date is older are destroyed and the others are retained.
# 2. `deregister check` fails (exit 6) before each blocking step is done.
# 3. `destroy execute` is killed with SIGKILL at random moments; re-running
#    it always finishes the same batch, and the audit log verifies.
# 4. No identifier of the sample is in any file of the vault folder.
# 5. A retained person is refused by `show` without --legal-ground (exit 5)
#    and shown with one.
# 6. The certificate verifies with stock `ssh-keygen -Y verify`, holds no
#    identifier, and its counts agree with the plan.
# 7. After media destruction and the certificate, `deregister check` passes.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/custos" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export CUSTOS_KEY_FILE="$work/k.key" CUSTOS_ACTOR=e2e
today=2026-11-27

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_exit() {  # expect_exit CODE cmd...
  local want=$1; shift
  set +e; "$@" >"$work/out" 2>"$work/err"; local got=$?; set -e
  [ "$got" = "$want" ] || { cat "$work/out" "$work/err" >&2; fail "exit $got, want $want: $*"; }
}

mkdir vaultdir
"$custos" sample --rows 8000 --seed 11 --today $today --out crm.csv
"$custos" init --vault vaultdir/v.vault --key-file k.key >/dev/null
"$custos" import crm.csv --vault vaultdir/v.vault --dataset crm >/dev/null

expect_exit 6 "$custos" deregister check --vault vaultdir/v.vault --today $today

"$custos" retention rules --vault vaultdir/v.vault --json > rules.json
grep -q '"ecommerce-transactions"' rules.json || fail "rules list"
"$custos" retention apply --vault vaultdir/v.vault --rule ecommerce-transactions --dataset crm \
  --fields 姓名,银行卡号,开户日期 --start-field 开户日期 --today $today --json > apply.json
"$custos" destroy plan --vault vaultdir/v.vault --today $today --json > plan.json
python3 - <<'PY'
import json
p = json.load(open("plan.json"))
assert p["people"]["destroyed"] > 0 and p["people"]["retained"] > 0, p["people"]
assert not p["blockers"], p["blockers"]
PY

expect_exit 2 "$custos" destroy execute --vault vaultdir/v.vault --approver Boss \
  --supervisor A --today $today

# Kill -9 at random moments; each run resumes the unfinished batch.
for delay in 0.05 0.1 0.2 0.3 0.5 0.7; do
  "$custos" destroy execute --vault vaultdir/v.vault --approver Boss --supervisor A \
    --supervisor B --today $today --chunk 40 >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
"$custos" destroy execute --vault vaultdir/v.vault --approver Boss --supervisor A \
  --supervisor B --today $today --chunk 40 --json > exec.json
"$custos" audit verify --vault vaultdir/v.vault >/dev/null
# However often it was killed, there is one batch: one destroy.execute, and
# its chunks add up to the plan.
"$custos" audit export --vault vaultdir/v.vault --out export >/dev/null
python3 - <<'PY'
import json, sys
entries = [json.loads(l) for l in open("export/entries.jsonl", encoding="utf-8")]
starts = [e for e in entries if e["action"] == "destroy.execute"]
chunks = [e for e in entries if e["action"] == "destroy.chunk"]
assert len(starts) == 1, len(starts)
p = json.load(open("plan.json"))
assert sum(c["objects"]["people_destroyed"] for c in chunks) == p["people"]["destroyed"]
assert sum(c["objects"]["people_rewritten"] for c in chunks) == p["people"]["rewritten"]
print(f"runs killed and resumed: {len(chunks)} chunks in one batch", file=sys.stderr)
PY
python3 - <<'PY'
import json
e = json.load(open("exec.json"))
assert e["destruction"], e
# Informational: whether a kill interrupted a batch that this run resumed.
import sys
print(f"final run: resumed={e['resumed']} already_done={e['already_done']}", file=sys.stderr)
PY
"$custos" destroy plan --vault vaultdir/v.vault --today $today --json > plan2.json
python3 - <<'PY'
import json
p, q = json.load(open("plan.json")), json.load(open("plan2.json"))
assert q["people"]["destroyed"] == 0 and q["people"]["rewritten"] == 0, q["people"]
assert q["people"]["total"] == p["people"]["retained"], (p["people"], q["people"])
PY

# No identifier of the sample anywhere in the vault folder.
python3 - <<'PY'
import csv, os
rows = list(csv.reader(open("crm.csv", encoding="utf-8-sig")))
head = rows[0]
cols = [head.index(c) for c in ("身份证号", "手机号", "电子邮箱", "银行卡号", "姓名")]
blob = b"".join(open(os.path.join("vaultdir", f), "rb").read() for f in os.listdir("vaultdir"))
for r in rows[1:]:
    for c in cols:
        v = r[c].strip()
        if len(v.encode()) >= 6:
            assert v.encode() not in blob, "found an identifier in the vault folder"
PY

# A retained person (开户日期 within 3 years): refused without a legal
# ground (exit 5, permission_denied), shown with one.
python3 - <<'PY' > retained_id.txt
import csv, datetime
rows = list(csv.reader(open("crm.csv", encoding="utf-8-sig")))
head = rows[0]
d, i = head.index("开户日期"), head.index("身份证号")
for r in rows[1:]:
    try:
        y, m, dd = map(int, r[d].replace("/", "-")[:10].split("-"))
    except ValueError:
        continue
    if datetime.date(y, m, dd) > datetime.date(2024, 6, 1) and r[i]:
        print(r[i]); break
PY
rid=$(cat retained_id.txt)
[ -n "$rid" ] || fail "no retained row in the sample"
expect_exit 5 "$custos" show --vault vaultdir/v.vault --id "$rid"
"$custos" show --vault vaultdir/v.vault --id "$rid" --legal-ground "tax audit 2027" >/dev/null

# Media and the certificate.
"$custos" media register --vault vaultdir/v.vault --id HDD-7 --kind disk >/dev/null
expect_exit 6 "$custos" deregister check --vault vaultdir/v.vault --today $today
"$custos" media record --vault vaultdir/v.vault --id HDD-7 --kind disk --method shred \
  --executor Vendor --witness A --witness B --vendor "Shred Co" --vendor-certificate SC-1 >/dev/null
expect_exit 6 "$custos" deregister check --vault vaultdir/v.vault --today $today
grep -q certificate out || fail "certificate blocker not named"
"$custos" certificate --vault vaultdir/v.vault --out cert >/dev/null
"$custos" certificate --vault vaultdir/v.vault --out cert-en --lang en >/dev/null
python3 - <<'PY'
import json, csv
c = json.load(open("cert/certificate.json"))
p = json.load(open("plan.json"))
assert c["people"]["destroyed"] == p["people"]["destroyed"], (c["people"], p["people"])
assert c["data"][0]["people"] == p["datasets"][0]["people"]["destroyed"]
text = open("cert/certificate.json", encoding="utf-8").read() + open("cert/certificate.html", encoding="utf-8").read()
rows = list(csv.reader(open("crm.csv", encoding="utf-8-sig")))
head = rows[0]
cols = [head.index(c) for c in ("身份证号", "手机号", "电子邮箱", "银行卡号")]
for r in rows[1:]:
    for i in cols:
        v = r[i].strip()
        if len(v) >= 6:
            assert v not in text, "identifier in the certificate"
PY
if command -v ssh-keygen >/dev/null; then
  key=$(python3 -c 'import json; print(json.load(open("cert/certificate.json"))["signing_key"])')
  echo "custos $key" > allowed
  ssh-keygen -Y verify -f allowed -I custos -n custos-certificate -s cert/certificate.json.sig \
    < cert/certificate.json >/dev/null || fail "ssh-keygen -Y verify"
fi
"$custos" deregister check --vault vaultdir/v.vault --today $today >/dev/null

# Years later every retention has expired: retention run destroys the rest,
# and the new batch needs its own certificate.
later=2031-01-01
"$custos" retention run --vault vaultdir/v.vault --approver Boss --supervisor A --supervisor B \
  --today $later --json > run.json
"$custos" destroy plan --vault vaultdir/v.vault --today $later --json > plan3.json
python3 - <<'PY'
import json
p = json.load(open("plan3.json"))
assert p["people"]["total"] == 0, p["people"]
PY
expect_exit 6 "$custos" deregister check --vault vaultdir/v.vault --today $later
"$custos" certificate --vault vaultdir/v.vault --out cert-later >/dev/null
grep -q '"retention-expired"' cert-later/certificate.json || fail "retention-expired trigger"
"$custos" deregister check --vault vaultdir/v.vault --today $later >/dev/null
"$custos" audit verify --vault vaultdir/v.vault >/dev/null
echo "destroy_e2e: OK"
