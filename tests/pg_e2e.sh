#!/usr/bin/env bash
# End to end on PostgreSQL, through the real binary and the test run's
# throwaway cluster (tests/pg_cluster.sh):
#
#   tests/pg_e2e.sh path/to/custos URI_FILE
#
# 1. A password in the URI is refused; `custos init` and `custos migrate`
#    on a database owned by a role without superuser rights.
# 2. A whole wind-down on the database: import, find, clear read,
#    retention, destruction, the certificate (stock ssh-keygen) stating the
#    cluster's copies as the owner's, media recorded, deregistration.
# 3. `pg_dump` of the database holds no identifier of the export; the audit
#    log verifies with custos and with the independent verifier.
# 4. A vault copied SQLite -> PostgreSQL -> SQLite verifies at every step
#    and holds the same people; each source then refuses changes.
# 5. The database connection dropped (pg_terminate_backend) during an
#    import and during a destruction: each fails cleanly or resumes, never
#    half-written, and the log verifies.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 path/to/custos URI_FILE" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/e2e_lib.sh"
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
admin=$(cat "$2")
python=$(nacl_python "$0")
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
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -At "$admin" "$@"; }
query="${admin#*\?}"
# A database of its own, owned by custos_vault (no superuser rights).
new_db() {
  local db="custos_e2e_$$_$1"
  psql_admin -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db OWNER custos_vault"
  echo "postgresql://custos_vault@/$db?$query"
}
# The identifiers of the export, for the canary scans.
identifiers() {
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig")))
head = rows[0]
cols = [head.index(c) for c in ("身份证号", "手机号", "电子邮箱", "银行卡号", "姓名")]
for r in rows[1:]:
    for c in cols:
        v = r[c].strip()
        if len(v.encode()) >= 6:
            print(v)
PY
}
no_identifier_in() {  # no_identifier_in FILE CSV WHAT
  python3 - "$1" "$2" "$3" <<'PY'
import csv, sys
blob = open(sys.argv[1], "rb").read()
rows = list(csv.reader(open(sys.argv[2], encoding="utf-8-sig")))
head = rows[0]
cols = [head.index(c) for c in ("身份证号", "手机号", "电子邮箱", "银行卡号", "姓名")]
n = 0
for r in rows[1:]:
    for c in cols:
        v = r[c].strip()
        if len(v.encode()) >= 6:
            n += 1
            assert v.encode() not in blob, f"an identifier of the export is in {sys.argv[3]}"
print(f"{sys.argv[3]}: none of {n} identifiers", file=sys.stderr)
PY
}

V=$(new_db a)
"$custos" sample --rows 6000 --seed 11 --today $today --out crm.csv

# 1. The URI: no password; init, migrate.
expect_exit 2 "$custos" init --vault "postgresql://custos_vault:secret@/x?$query"
grep -q "password file" err || fail "the password refusal names the way out"
grep -q secret err && fail "the refusal repeats the password"
"$custos" init --vault "$V" --key-file k.key >/dev/null
expect_exit 4 "$custos" init --vault "$V" --key-file k2.key   # already_exists
"$custos" migrate --vault "$V" --json > migrate.json
"$python" - <<'PY'
import json
m = json.load(open("migrate.json"))
assert m["migrated"] is False and m["schema_version"] == m["schema_version_found"] >= 1, m
PY
expect_exit 3 "$custos" migrate --vault "postgresql://custos_vault@/custos_e2e_none?$query"

# 2. A wind-down on the database.
"$custos" import crm.csv --vault "$V" --dataset crm --json > import.json
rid=$(python3 -c '
import csv
rows = list(csv.reader(open("crm.csv", encoding="utf-8-sig")))
i = rows[0].index("身份证号")
print(next(r[i] for r in rows[1:] if r[i]))')
"$custos" find --vault "$V" --id "$rid" --json > find.json
"$custos" show --vault "$V" --id "$rid" --clear --purpose "identity check" >/dev/null
"$custos" retention apply --vault "$V" --rule ecommerce-transactions --dataset crm \
  --fields 姓名,银行卡号,开户日期 --start-field 开户日期 --today $today >/dev/null
"$custos" destroy plan --vault "$V" --today $today --json > plan.json
"$custos" destroy execute --vault "$V" --approver Boss --supervisor A --supervisor B \
  --today $today --json > exec.json
batch=$(python3 -c 'import json; print(json.load(open("exec.json"))["destruction"])')
"$custos" media register --vault "$V" --id HDD-7 --kind disk >/dev/null
"$custos" media record --vault "$V" --id HDD-7 --kind disk --method shred --executor Vendor \
  --witness A --witness B >/dev/null
"$custos" certificate --vault "$V" --out cert --lang en >/dev/null
"$python" - "$batch" <<'PY'
import json, sys
batch = sys.argv[1]
c = json.load(open("cert/certificate.json"))
p = json.load(open("plan.json"))
assert c["people"]["destroyed"] == p["people"]["destroyed"] > 0, (c["people"], p["people"])
v = c["verification"]
assert v["store"] == "postgresql" and v["vacuumed"] and v["people_left"] == 0, v
assert v["outside_custos"] == [batch + "-wal", batch + "-backup"], v
assert [m["state"] for m in c["outside_custos"]] == ["registered", "registered"], c["outside_custos"]
html = open("cert/certificate.html", encoding="utf-8").read()
assert "their owner must delete them" in html
PY
key=$(python3 -c 'import json; print(json.load(open("cert/certificate.json"))["signing_key"])')
echo "custos $key" > allowed
ssh-keygen -Y verify -f allowed -I custos -n custos-certificate -s cert/certificate.json.sig \
  < cert/certificate.json >/dev/null || fail "ssh-keygen -Y verify"
# The cluster's copies block deregistration until their owner records them.
expect_exit 6 "$custos" deregister check --vault "$V" --today $today
grep -q -- "$batch-wal" out || fail "the WAL copies are not named as a blocker"
for copy in wal backup; do
  "$custos" media record --vault "$V" --id "$batch-$copy" --kind "database-$copy" --method delete \
    --executor DBA --witness A --witness B >/dev/null
done
"$custos" deregister check --vault "$V" --today $today >/dev/null

# 3. No identifier in a dump of the database; the log verifies, independently too.
dbname=$(python3 -c 'import sys,urllib.parse as u; print(u.urlparse(sys.argv[1]).path[1:])' "$V")
pg_dump "postgresql://custos_vault@/$dbname?$query" > dump.sql
[ -s dump.sql ] || fail "pg_dump wrote nothing"
no_identifier_in dump.sql crm.csv "pg_dump of the database"
"$custos" audit verify --vault "$V" >/dev/null
"$custos" audit export --vault "$V" --out export >/dev/null
"$python" "$here/audit_verifier.py" export export | grep -q '^OK' || fail "independent verifier"
no_identifier_in export/entries.jsonl crm.csv "the audit log"

# 4. SQLite -> PostgreSQL -> SQLite.
"$custos" init --vault one.vault --key-file c.key >/dev/null
"$custos" import crm.csv --vault one.vault --key-file c.key --dataset crm >/dev/null
people() {  # people VAULT: how many, and a digest of who (by their ids)
  "$custos" destroy plan --vault "$1" --key-file c.key --today $today --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["people"]["total"])'
}
n1=$(people one.vault)
"$custos" find --vault one.vault --key-file c.key --id "$rid" --json > f1.json
W=$(new_db b)
"$custos" vault copy --from one.vault --key-file c.key --to "$W" --json > copy1.json
"$custos" audit verify --vault "$W" --key-file c.key >/dev/null
n2=$(people "$W")
"$custos" vault copy --from "$W" --key-file c.key --to two.vault --json > copy2.json
"$custos" audit verify --vault two.vault --key-file c.key >/dev/null
"$custos" audit verify --vault one.vault --key-file c.key >/dev/null
n3=$(people two.vault)
[ "$n1" = "$n2" ] && [ "$n2" = "$n3" ] || fail "people: $n1, $n2, $n3"
"$custos" find --vault two.vault --key-file c.key --id "$rid" --json > f3.json
"$python" - <<'PY'
import json
a, b = json.load(open("f1.json")), json.load(open("f3.json"))
ids = lambda j: sorted(p["person"] for p in j["people"])
assert ids(a) == ids(b) and ids(a), (a, b)
c1, c2 = json.load(open("copy1.json")), json.load(open("copy2.json"))
assert c2["audit_entries_verified_before"] == c1["audit_entries_verified_after"], (c1, c2)
assert c2["audit_entries_verified_after"] == c2["audit_entries_verified_before"] + 2, (c1, c2)
PY
# The sources take no more changes (an audited search is one); the copy does.
expect_exit 6 "$custos" import crm.csv --vault one.vault --key-file c.key --dataset again
grep -q "was moved to" err || fail "the moved vault does not say where it went"
expect_exit 6 "$custos" import crm.csv --vault "$W" --key-file c.key --dataset again
expect_exit 4 "$custos" vault copy --from two.vault --key-file c.key --to "$W"
"$custos" import crm.csv --vault two.vault --key-file c.key --dataset again >/dev/null

# 5. The connection dropped mid-way.
drop_connections() {  # every custos session of database $1, once they are busy
  psql_admin -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = '$1' AND application_name = 'custos'" >/dev/null
}
X=$(new_db c)
xdb=$(python3 -c 'import sys,urllib.parse as u; print(u.urlparse(sys.argv[1]).path[1:])' "$X")
"$custos" init --vault "$X" --key-file x.key >/dev/null
"$custos" sample --rows 40000 --seed 5 --today $today --out big.csv
set +e
"$custos" import big.csv --vault "$X" --key-file x.key --dataset crm >imp.out 2>imp.err &
pid=$!
sleep 2
drop_connections "$xdb"
wait $pid
code=$?
set -e
if [ $code -eq 0 ]; then
  echo "pg_e2e: the import finished before the connection dropped (a fast machine)" >&2
else
  [ $code -eq 9 ] || { cat imp.err >&2; fail "the dropped import exited $code, want 9"; }
  # Nothing of it is left: no dataset, no people.
  "$custos" destroy plan --vault "$X" --key-file x.key --today $today --json > xplan.json
  python3 -c 'import json; p=json.load(open("xplan.json")); assert p["people"]["total"] == 0, p["people"]'
  "$custos" import big.csv --vault "$X" --key-file x.key --dataset crm >/dev/null
fi
"$custos" audit verify --vault "$X" --key-file x.key >/dev/null
"$custos" retention apply --vault "$X" --key-file x.key --rule ecommerce-transactions --dataset crm \
  --fields 姓名,银行卡号,开户日期 --start-field 开户日期 --today $today >/dev/null
for delay in 0.3 0.8 1.5; do
  set +e
  "$custos" destroy execute --vault "$X" --key-file x.key --approver Boss --supervisor A \
    --supervisor B --today $today --chunk 200 >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  drop_connections "$xdb"
  wait $pid
  set -e
done
"$custos" destroy execute --vault "$X" --key-file x.key --approver Boss --supervisor A \
  --supervisor B --today $today --json > xexec.json
"$custos" audit verify --vault "$X" --key-file x.key >/dev/null
"$custos" destroy plan --vault "$X" --key-file x.key --today $today --json > xplan2.json
"$custos" audit export --vault "$X" --key-file x.key --out xexport >/dev/null
python3 - <<'PY'
import json
p = json.load(open("xplan2.json"))
assert p["people"]["destroyed"] == 0 and p["people"]["rewritten"] == 0, p["people"]
entries = [json.loads(l) for l in open("xexport/entries.jsonl", encoding="utf-8")]
assert len([e for e in entries if e["action"] == "destroy.execute"]) == 1
PY
for db in a b c; do psql_admin -c "DROP DATABASE IF EXISTS custos_e2e_$$_$db WITH (FORCE)"; done
echo "pg_e2e: OK"
