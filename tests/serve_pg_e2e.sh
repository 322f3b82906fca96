#!/usr/bin/env bash
# Two `custos serve` processes on one vault in PostgreSQL (the test run's
# throwaway cluster, tests/pg_cluster.sh):
#
#   tests/serve_pg_e2e.sh path/to/custos URI_FILE
#
# 1. A vault with users in a database; two servers, each with a state
#    directory of its own (a shared one is refused; so is none).
# 2. A session started on one server works on the other; a change made
#    through one (an import) is seen at once by the other.
# 3. Load on both at once (audited searches from several clients): every
#    answered request is in the audit log exactly once, and the log is one
#    tree: `custos audit verify` and the independent verifier pass, and
#    every signed checkpoint is consistent with the last.
# 4. The database ends every session (a restart, an administrator): both
#    servers answer the next requests on new connections.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 path/to/custos URI_FILE" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
admin=$(cat "$2")
work="$(mktemp -d)"
pids=()
db="custos_e2e_serve_$$"
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
. "$here/e2e_lib.sh"
python=$(nacl_python "$0")
psql -X -q -v ON_ERROR_STOP=1 "$admin" -c "CREATE DATABASE $db OWNER custos_vault" >/dev/null
export CUSTOS_VAULT="postgresql://custos_vault@/$db?${admin#*\?}"
export CUSTOS_ACTOR=keyholder XDG_STATE_HOME="$work/state"
export PW='分公司注销 correct horse'
unset CUSTOS_KEY_FILE CUSTOS_PASSPHRASE CUSTOS_SERVER

. "$here/people_lib.sh"
. "$here/serve_lib.sh"

# 1. The vault and its people.
"$custos" sample --rows 300 --seed 5 --out crm.csv 2>/dev/null
"$custos" sample --rows 50 --seed 99 --out more.csv 2>/dev/null
"$custos" init --key-file k.key >/dev/null
"$custos" import crm.csv --dataset crm --key-file k.key >/dev/null
export CUSTOS_KEY_FILE="$work/k.key"
mkdir sessions
enrol wang.cust custodian
login wang.cust
enrol zhang.op operator --session "$work/sessions/wang.cust"
enrol li.op operator --session "$work/sessions/wang.cust"

expect_exit 2 "$custos" serve --listen 127.0.0.1:0 --key-file k.key
grep -q -- "--state-dir" err || fail "a database vault without --state-dir: $(cat err)"
start_server a --listen 127.0.0.1:0 --key-file k.key --state-dir "$work/a"
url_a=$url
expect_exit 9 "$custos" serve --listen 127.0.0.1:0 --key-file k.key --state-dir "$work/a"
grep -q "another custos serve is using the state directory" err || fail "shared state dir: $(cat err)"
start_server b --listen 127.0.0.1:0 --key-file k.key --state-dir "$work/b"
url_b=$url

# 2. A session of one server on the other; a write through one, read on the other.
sign_in() {  # sign_in URL USER: prints the token
  local code
  code=$(fresh_code "$2")
  curl -s -f -X POST -H 'Content-Type: application/json' \
    --data-binary "{\"user\":\"$2\",\"password\":\"$PW\",\"totp\":\"$code\"}" "$1/api/v1/sessions" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
token=$(sign_in "$url_a" zhang.op)
token2=$(sign_in "$url_b" li.op)
status=$(curl -s -o me.json -w '%{http_code}' -H "Authorization: Bearer $token" "$url_b/api/v1/me")
[ "$status" = 200 ] || fail "a session of server a on server b: HTTP $status $(cat me.json)"
python3 -c 'import json; assert json.load(open("me.json"))["user"] == "zhang.op"'
new_id=$(python3 -c '
import csv
rows = list(csv.reader(open("more.csv", encoding="utf-8-sig")))
i = rows[0].index("身份证号")
print(next(r[i] for r in rows[1:] if r[i]))')
search() {  # search URL TOKEN ID: prints the HTTP status, the answer in search.json
  curl -s -o search.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $2" --data-binary "{\"id_number\":\"$3\"}" "$1/api/v1/persons/search"
}
[ "$(search "$url_b" "$token" "$new_id")" = 200 ] || fail "search on b"
python3 -c 'import json; assert json.load(open("search.json"))["people"] == [], "found before import"'
curl -s -f -o import.json -X POST -H "Authorization: Bearer $token" --data-binary @more.csv \
  "$url_a/api/v1/datasets/more/imports?filename=more.csv" >/dev/null
job=$(python3 -c 'import json; print(json.load(open("import.json"))["job"]["href"])')
for _ in $(seq 100); do
  curl -s -H "Authorization: Bearer $token" "$url_a$job" > job.json
  state=$(python3 -c 'import json; print(json.load(open("job.json"))["state"])')
  [ "$state" = succeeded ] && break
  [ "$state" = failed ] && fail "the import through a failed: $(cat job.json)"
  sleep 0.2
done
[ "$state" = succeeded ] || fail "the import through a did not finish"
[ "$(search "$url_b" "$token" "$new_id")" = 200 ] || fail "search on b after the import"
python3 -c 'import json; assert len(json.load(open("search.json"))["people"]) == 1, "b does not see a write of a"'

# 3. Load on both servers at once: audited searches from 8 clients.
python3 - crm.csv > ids.txt <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig")))
i = rows[0].index("身份证号")
ids = [r[i] for r in rows[1:] if r[i]]
for n in range(400):
    print(ids[n % len(ids)])
PY
before=$("$custos" audit verify --session sessions/wang.cust --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
n=0
while read -r id; do
  n=$((n + 1))
  if [ $((n % 2)) = 0 ]; then echo "$url_a $token $id"; else echo "$url_b $token2 $id"; fi
done < ids.txt > requests.txt
xargs -P 8 -L 1 sh -c 'curl -s -o /dev/null -w "%{http_code}\n" -X POST -H "Content-Type: application/json" -H "Authorization: Bearer $1" --data-binary "{\"id_number\":\"$2\"}" "$0/api/v1/persons/search"' \
  < requests.txt > statuses.txt
answered=$(grep -c '^200$' statuses.txt || true)
[ "$answered" = 400 ] || fail "$answered of 400 searches answered: $(sort statuses.txt | uniq -c)"
"$custos" audit verify --session sessions/wang.cust >/dev/null
"$custos" audit export --session sessions/wang.cust --out export >/dev/null
"$python" "$here/audit_verifier.py" export export | grep -q '^OK' || fail "independent verifier"
"$python" - "$before" <<'PY'
import json, sys
before = int(sys.argv[1])
entries = [json.loads(l) for l in open("export/entries.jsonl", encoding="utf-8")]
seqs = [e["seq"] for e in entries]
assert seqs == list(range(len(entries))), "a gap or a duplicate in the log's sequence"
finds = [e for e in entries[before:] if e["action"] == "person.find"]
assert len(finds) == 400, f"{len(finds)} person.find entries for 400 answered searches"
users = {e["actor"] for e in finds}
assert users == {"zhang.op", "li.op"}, users
PY
# The database ends every session (a restart, an administrator): the next
# requests on both servers are answered on new connections.
psql -X -q "$admin" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE datname = '$db' AND application_name = 'custos'" >/dev/null
for u in "$url_a" "$url_b" "$url_a" "$url_b"; do
  [ "$(search "$u" "$token" "$new_id")" = 200 ] || fail "a search after the sessions ended: $(cat search.json)"
done
"$custos" audit verify --session sessions/wang.cust >/dev/null
echo "serve_pg_e2e: OK (400 searches on two servers, each once in one verified log)"
