#!/usr/bin/env bash
# End to end: a whole wind-down run through `custos serve` by seven people,
# every step a `custos ... --server URL` command (so every step is an API
# call the server runs as the signed-in user), checked against the vault.
#
#   tests/serve_winddown_e2e.sh path/to/custos
#
# 1. Every operation of the OpenAPI document answers 401 without a session
#    (but the public ones).
# 2. The custodian adds six people over the API; they enrol and sign in
#    over the API; training is recorded.
# 3. Import (a job), find, clear read with step-up (refused for the
#    operator: 403, recorded), transfer with an officer's signed approval,
#    package and notices downloaded, receipt, close; retention; destruction
#    with three approvals (a job); certificate downloaded and verified with
#    ssh-keygen; media; deregistration; audit export verified by the
#    independent RFC 9162 verifier.
# 4. Output through the server equals the local command's, text and JSON.
# 5. kill -9 of the server during an import job and during a destruction
#    job: after a restart the job is reported failed, the vault is whole
#    (audit verify passes) and running the command again finishes it.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/custos" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export CUSTOS_VAULT="$work/v.vault" CUSTOS_ACTOR=keyholder XDG_STATE_HOME="$work/state"
export PW='分公司注销 correct horse'
unset CUSTOS_KEY_FILE CUSTOS_PASSPHRASE CUSTOS_SERVER

. "$here/people_lib.sh"
. "$here/serve_lib.sh"
. "$here/e2e_lib.sh"
python="$(nacl_python serve_winddown_e2e)"

# on USER cmd...: custos cmd ... --server URL as USER (their server session)
on() {
  local user=$1; shift
  "$custos" "$@" --server "$url" --session "$work/sessions/$user.remote"
}
remote_login() {
  local user=$1
  CODE=$(fresh_code "$user") "$custos" login --server "$url" --user "$user" --password-env PW \
    --totp-env CODE --session "$work/sessions/$user.remote" >/dev/null
}
request_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["request"])' "$1"; }

"$custos" sample --rows 300 --seed 11 --today 2026-11-27 --out crm.csv 2>/dev/null
"$custos" init --key-file k.key >/dev/null
mkdir sessions
export CUSTOS_KEY_FILE="$work/k.key"
enrol wang.cust custodian
unset CUSTOS_KEY_FILE
mobile=$(sed -n 2p crm.csv | cut -d, -f5)
start_server s1 --key-file k.key --listen 127.0.0.1:0 --threads 2

# 1. Without a session: 401 on every operation but the public ones.
curl -s "$url/api/v1/openapi.json" >openapi.json
python3 - "$url" <<'PY' >unauthenticated.txt
import json, sys, urllib.request, urllib.error
doc = json.load(open("openapi.json"))
public = {("get", "/healthz"), ("get", "/api/v1/openapi.json"), ("get", "/api/v1/unseal"),
          ("post", "/api/v1/unseal"), ("post", "/api/v1/sessions"), ("post", "/api/v1/enrolments")}
n = 0
for path, item in doc["paths"].items():
    for method, op in item.items():
        if (method, path) in public:
            assert op.get("security", None) == [] or path in ("/healthz", "/api/v1/openapi.json") \
                or "unseal" in path or path == "/api/v1/sessions", (method, path)
            continue
        target = path.replace("{", "x").replace("}", "")
        req = urllib.request.Request(sys.argv[1] + target, method=method.upper(),
                                     data=b"{}" if method != "get" else None,
                                     headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req)
            raise SystemExit("no 401: %s %s" % (method, path))
        except urllib.error.HTTPError as e:
            body = json.load(e)
            assert e.code == 401 and body["error"]["code"] == "unauthenticated", (method, path, e.code, body)
        n += 1
print(n)
PY
[ "$(cat unauthenticated.txt)" -ge 50 ] || fail "only $(cat unauthenticated.txt) operations"
cases=$((cases + $(cat unauthenticated.txt)))

# 2. People, over the API.
remote_login wang.cust
for u in zhang.op:operator li.off:officer zhao.sup:supervisor sun.sup:supervisor \
  chen.appr:approver zhou.aud:auditor; do
  id=${u%%:*}
  expect_exit 0 on wang.cust user add --id "$id" --name "姓名$id" --role "${u#*:}" --json
  cp "$work/out" "$id.add"
  SECRET=$(json_get "$id.add" enrolment_secret) expect_exit 0 "$custos" user enrol --server "$url" \
    --id "$id" --secret-env SECRET --password-env PW --json
  json_get "$work/out" totp_secret >"$id.totp"
  remote_login "$id"
done
expect_exit 5 on zhang.op user add --id x.y --name X --role operator
expect_exit 0 on wang.cust user list --json
users=$(python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); print(len(j["users"] if "users" in j else j))' "$work/out")
[ "$users" = 7 ] || { cat "$work/out" >&2; fail "users: $users"; }
echo "签到表 2026-12-01" >evidence.txt
course=$(on li.off training course --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
for u in zhang.op li.off zhao.sup sun.sup chen.appr; do
  expect_exit 0 on wang.cust training record --user "$u" --course "$course" --score 90 \
    --date 2026-12-01 --evidence evidence.txt
done

# 3. The wind-down.
expect_exit 0 on zhang.op inventory crm.csv --format json
python3 -c 'import json; j = json.load(open("'"$work/out"'")); assert j["rows"] == 300, j'
expect_exit 0 on zhang.op inventory crm.csv --format html --out map.html
grep -q '<html' map.html || fail "inventory html"
expect_exit 2 on zhang.op import crm.csv --dataset crm --encoding latin1
expect_exit 0 on zhang.op import crm.csv --dataset crm --json
python3 -c 'import json; j = json.load(open("'"$work/out"'")); assert j["rows"] == 300 and j["dataset"] == "crm", j'
# Uploads: a text export is held sealed (nothing of it in the spool, in
# clear), a workbook in memory; both read as the files they are.
if grep -rqa "$mobile" v.vault.serve; then fail "an upload in clear in the server's spool"; fi
python3 "$here/../bench/csv_to_xlsx.py" crm.csv crm.xlsx >/dev/null
expect_exit 0 on zhang.op inventory crm.xlsx --format json
python3 -c 'import json; j = json.load(open("'"$work/out"'")); assert j["rows"] == 300 and j["format"] == "xlsx", j'
expect_exit 0 on zhang.op find --mobile "$mobile" --json
person=$(python3 -c 'import json; print(json.load(open("'"$work/out"'"))["people"][0]["person"])')
CODE=$(fresh_code zhang.op) expect_exit 5 on zhang.op show "$person" --clear --purpose 核对 \
  --password-env PW --totp-env CODE
CODE=111111 expect_exit 8 on li.off show "$person" --clear --purpose 核对 --password-env PW --totp-env CODE
CODE=$(fresh_code li.off) expect_exit 0 on li.off show "$person" --clear --purpose 核对身份 \
  --password-env PW --totp-env CODE --json
grep -q "$mobile" "$work/out" || fail "clear read: no mobile"
# Without a password and code a clear read needs a stepped-up session: 401
# (recorded) before `custos step-up`, and for five minutes after it, none.
token=$(json_get "$work/sessions/li.off.remote" token)
clear_read() {  # clear_read [BODY]: the status; the answer in clear.json
  curl -s -o clear.json -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' --data-binary "${1:-{\"purpose\":\"核对身份\"\}}" \
    "$url/api/v1/persons/$person/clear-reads"
}
[ "$(clear_read)" = 401 ] || fail "a clear read without step-up: $(cat clear.json)"
json_get clear.json error | grep -q "needs a step-up" || fail "step-up message: $(cat clear.json)"
expect_exit 2 on li.off step-up --password-env NOPE --totp-env NOPE
CODE=$(fresh_code li.off) expect_exit 0 on li.off step-up --password-env PW --totp-env CODE
grep -q "^Stepped up until 20" "$work/out" || fail "step-up: $(cat "$work/out")"
[ "$(clear_read)" = 200 ] || fail "a clear read after step-up: $(cat clear.json)"
grep -q "$mobile" clear.json || fail "clear read: no mobile in $(cat clear.json)"
[ "$(clear_read '{}')" = 400 ] || fail "no purpose: $(cat clear.json)"
grep -q '"purpose\\" is required' clear.json || fail "no purpose: $(cat clear.json)"
[ "$(clear_read '{"purpose":7}')" = 400 ] || fail "a number as purpose: $(cat clear.json)"
grep -q 'must be a string' clear.json || fail "a number as purpose: $(cat clear.json)"
[ "$(clear_read '{"purpose":"x","why":"x"}')" = 400 ] || fail "unknown member: $(cat clear.json)"
grep -q 'unknown member' clear.json || fail "unknown member: $(cat clear.json)"
expect_exit 0 on li.off show "$person" --clear --purpose 核对身份 --json </dev/null
grep -q "$mobile" "$work/out" || fail "clear read after step-up: no mobile"
expect_exit 2 "$custos" step-up --session "$work/sessions/li.off.remote"   # not at a server
expect_exit 0 on li.off show "$person"
grep -q "$mobile" "$work/out" && fail "masked read shows the mobile"
expect_exit 2 on li.off destroy execute --approver x   # a key holder's option: not sent
expect_exit 0 on li.off find --mobile "$(sed -n 4p crm.csv | cut -d, -f5)" --json
gone=$(python3 -c 'import json; print(json.load(open("'"$work/out"'"))["people"][0]["person"])')
expect_exit 5 on zhang.op forget "$gone"
expect_exit 0 on li.off forget "$gone"
expect_exit 3 on li.off show "$gone"
expect_exit 0 on li.off whoami --json
[ "$(json_get "$work/out" user)" = li.off ] || fail "whoami"

"$custos" keys new-recipient --out ho-keys >/dev/null
expect_exit 0 on zhang.op recipient add --id ho --name 某公司总部 --uscc 91350100M000100Y43 \
  --contact "客服 400-800-0000" --age-recipient "$(cat ho-keys/age.pub)" \
  --ssh-key "$(cat ho-keys/ssh_ed25519.pub)"
printf 'scope = 客户账户服务\nsecurity = 加密存储\nno_onward_transfer = yes\nreturn_or_delete = 合同终止后删除\naudit_right = yes\nbreach_notice = 24小时\nretention = 5年\n' >contract.txt
expect_exit 0 on zhang.op transfer plan --id T1 --recipient ho --mode head-office \
  --purpose 继续提供账户服务 --fields 姓名,手机号 --processor-name 某公司北京分公司 \
  --processor-contact 010-88888888 --contract contract.txt --approved-by li.off
expect_exit 0 on zhang.op recipient list --json
expect_exit 0 on zhang.op transfer terms --transfer T1 --term "retention=5年"
printf 'ref,response,time\nnobody,consent,2026-12-01T10:00:00+08:00\n' >responses.csv
expect_exit 2 on zhang.op transfer responses --transfer T1 --file responses.csv
expect_exit 0 on zhang.op transfer notices --transfer T1 --channel sms --out notices.csv
[ "$(wc -l <notices.csv)" -gt 100 ] || fail "notices.csv: $(wc -l <notices.csv) lines"
[ "$(stat -c %a notices.csv)" = 600 ] || fail "notices.csv mode"
expect_exit 0 on zhang.op transfer package --transfer T1 --out T1.tar --json
cp "$work/out" package.request
request=$(request_of package.request)
expect_exit 0 on li.off request show "$request" --json
expect_exit 0 on li.off approve "$request" --print-statement
grep -q "custos-approval" "$work/out" || grep -q "$request" "$work/out" || fail "statement"
CODE=$(fresh_code li.off) expect_exit 0 on li.off approve "$request" --password-env PW --totp-env CODE
expect_exit 0 on zhang.op transfer package --transfer T1 --out T1.tar --request "$request"
sender=$("$custos" keys public --key-file k.key --break-glass --format ssh | awk '{print $1" "$2}')
expect_exit 0 "$custos" package verify T1.tar --sender-key "$sender"
"$custos" init --vault ho.vault --key-file ho.key >/dev/null
expect_exit 0 "$custos" package import T1.tar --vault ho.vault --key-file ho.key \
  --identity ho-keys/age.key --sender-key "$sender"
expect_exit 0 "$custos" package receipt T1.tar --vault ho.vault --key-file ho.key \
  --ssh-key ho-keys/ssh_ed25519 --out T1.receipt
expect_exit 0 on zhang.op transfer close --transfer T1 --receipt T1.receipt
expect_exit 0 on zhang.op retention rules
expect_exit 0 on zhang.op retention apply --rule tax-records --dataset crm --fields 开户日期,账户余额 \
  --start-field 开户日期 --today 2026-11-27

# 4. The same answer as locally (JSON and text).
CUSTOS_KEY_FILE="$work/k.key" login zhou.aud
for args in "transfer status" "destroy plan --today 2026-11-27" "request list" "policy show"; do
  # shellcheck disable=SC2086
  on zhou.aud $args >remote.txt 2>&1 || true
  "$custos" $args --key-file k.key --session sessions/zhou.aud >local.txt 2>&1 || true
  diff local.txt remote.txt >/dev/null || { diff local.txt remote.txt >&2; fail "text differs: $args"; }
  on zhou.aud $args --json >remote.json 2>&1 || true
  "$custos" $args --json --key-file k.key --session sessions/zhou.aud >local.json 2>&1 || true
  diff local.json remote.json >/dev/null || { diff local.json remote.json >&2; fail "JSON differs: $args"; }
  cases=$((cases + 2))
done

expect_exit 0 on zhang.op destroy execute --today 2026-11-27 --json
cp "$work/out" destroy.request
request=$(request_of destroy.request)
CODE=$(fresh_code zhang.op) expect_exit 5 on zhang.op approve "$request" --password-env PW --totp-env CODE
for u in chen.appr zhao.sup sun.sup; do
  CODE=$(fresh_code "$u") expect_exit 0 on "$u" approve "$request" --password-env PW --totp-env CODE
done
expect_exit 0 on zhang.op destroy execute --today 2026-11-27 --request "$request"
expect_exit 0 on zhang.op certificate --out certificate
[ -s certificate/certificate.json ] && [ -s certificate/certificate.json.sig ] || fail "certificate files: $(ls certificate)"
printf 'branch namespaces="custos-certificate" %s\n' "$sender" >allowed
ssh-keygen -Y verify -f allowed -I branch -n custos-certificate -s certificate/certificate.json.sig \
  <certificate/certificate.json >/dev/null || fail "certificate signature"
expect_exit 0 on zhang.op media register --id HDD-1 --kind disk --description 备份盘
expect_exit 0 on zhang.op media record --id HDD-1 --kind disk --method shred --executor 销毁服务商 \
  --witness zhao.sup --witness sun.sup
expect_exit 0 on li.off deregister check
expect_exit 0 on zhou.aud audit verify
expect_exit 0 on zhou.aud audit export --out audit-export
"$python" "$here/audit_verifier.py" export audit-export >verifier.txt || { cat verifier.txt >&2; fail "independent verifier"; }
expect_exit 5 on zhang.op audit export --out nope
expect_exit 2 on zhou.aud vault purge
expect_exit 0 on zhou.aud audit log --action request --json
expect_exit 0 on zhou.aud audit log --action session.step_up --json
python3 - "$work/out" <<'PY2' || fail "the step-up is not in the audit log"
import json, sys
j = json.load(open(sys.argv[1]))
entries = j["entries"] if isinstance(j, dict) else j
ok = [e for e in entries if e["action"] == "session.step_up" and e.get("result", "ok") == "ok"]
assert any(e["actor"] == "li.off" for e in ok), entries
PY2
expect_exit 0 on zhou.aud audit prove --index 3 --json
expect_exit 0 on zhou.aud audit consistency --old audit-export/checkpoint --json
expect_exit 0 on zhou.aud training records --json
# The quiz through the server, answered by a script (every answer C).
ANS=$(python3 -c 'print(",".join("C" * 40))') expect_exit 0 on zhou.aud training take --answers-env ANS --json
python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); assert j["attempt"].startswith("zhou.aud/") and isinstance(j["score"], int), j' "$work/out"
ANS=E expect_exit 2 on zhou.aud training take --answers-env ANS
expect_exit 0 on zhou.aud training records --user zhou.aud --json
grep -q '"kind": *"quiz"' "$work/out" || fail "the quiz is not in the records: $(cat "$work/out")"
expect_exit 0 on wang.cust user show --id zhou.aud --json
expect_exit 0 on li.off retention run --today 2026-11-27 --json
expect_exit 5 on li.off policy set --kind policy.set --slot officer:1
expect_exit 0 on wang.cust policy set --kind policy.set --slot officer:1 --json
request=$(request_of "$work/out")
expect_exit 0 on wang.cust request cancel "$request"
expect_exit 0 on wang.cust user add --id temp.op --name 临时 --role operator --json
SECRET=$(json_get "$work/out" enrolment_secret) expect_exit 0 "$custos" user enrol --server "$url" \
  --id temp.op --secret-env SECRET --password-env PW
expect_exit 0 on wang.cust user roles --id temp.op --set auditor
expect_exit 0 on wang.cust user suspend --id temp.op
expect_exit 0 on wang.cust user resume --id temp.op
expect_exit 0 on wang.cust user reset --id temp.op
expect_exit 0 on wang.cust user remove --id temp.op

# Every command operation of the document was called with a session, and
# answered only statuses it documents.
python3 - <<'PY'
import json
doc = json.load(open("openapi.json"))
called = {}
for line in open("s1.err"):
    if not line.startswith("{"):
        continue  # the key file's warning
    j = json.loads(line)
    if j["status"] != 401:
        called.setdefault((j["method"], j["route"]), set()).add(str(j["status"]))
for path, item in doc["paths"].items():
    for method, op in item.items():
        if "x-custos-command" not in op and op["tags"] != ["jobs"]:
            continue
        key = (method.upper(), path)
        assert key in called, "never called with a session: %s %s" % key
        undocumented = called[key] - set(op["responses"])
        assert not undocumented, "%s %s answered %s" % (key[0], key[1], undocumented)
PY
cases=$((cases + 1))

# 5. kill -9 during jobs.
"$custos" sample --rows 95000 --seed 3 --today 2026-11-27 --out big.csv 2>/dev/null
call_job() {  # call_job USER METHOD PATH [curl args]: starts a job, prints its id
  local user=$1 method=$2 path=$3; shift 3
  local token
  token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$work/sessions/$user.remote")
  curl -s -X "$method" -H "Authorization: Bearer $token" "$@" "$url$path" |
    tee job-start.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["id"])' || { cat job-start.json >&2; fail "no job"; }
}
job_state() {  # job_state USER ID: "state done total" (fast: polled in a tight loop)
  local token body
  token=$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' "$work/sessions/$1.remote")
  body=$(curl -s -H "Authorization: Bearer $token" "$url/api/v1/jobs/$2")
  echo "$body" >job.json
  [[ $body =~ \"state\":\"([a-z]+)\".*\"done\":([0-9]+),\"total\":([0-9]+) ]] ||
    fail "job: $body"
  echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
}
# kill_during JOB WHAT PART LOG: once the job has done some of its work
# (done * PART < total: rows being written, people being destroyed), kill -9
# of the server; the vault verifies; restarted (as LOG) the server reports
# the job failed.
kill_during() {
  local job=$1 what=$2 part=$3 log=$4
  for _ in $(seq 2000); do
    set -- $(job_state zhang.op "$job")
    [ "$1" = running ] && [ "$2" -gt 0 ] && [ $(($2 * part)) -lt "$3" ] && break
    [ "$1" = running ] || fail "the $what ended before it could be killed: $(cat job.json)"
  done
  kill -9 "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  expect_exit 0 "$custos" audit verify --key-file k.key --break-glass
  start_server "$log" --key-file k.key --listen 127.0.0.1:0 --threads 2
  set -- $(job_state zhang.op "$job")
  [ "$1" = failed ] || fail "a killed $what job: $1"
  cases=$((cases + 1))
}
job=$(call_job zhang.op POST "/api/v1/datasets/big/imports?filename=big.csv" --data-binary @big.csv \
  -H 'Content-Type: text/csv')
kill_during "$job" import 1 s2
expect_exit 0 on zhang.op import big.csv --dataset big --json
python3 -c 'import json; j = json.load(open("'"$work/out"'")); assert j["rows"] == 95000, j'

# kill -9 during a destruction job: the next start reports it failed; the
# vault verifies; the same command (same approved request) finishes it.
expect_exit 0 on zhang.op destroy execute --today 2026-11-27 --json
request=$(request_of "$work/out")
for u in chen.appr zhao.sup sun.sup; do
  CODE=$(fresh_code "$u") expect_exit 0 on "$u" approve "$request" --password-env PW --totp-env CODE
done
job=$(call_job zhang.op POST /api/v1/destructions -H 'Content-Type: application/json' \
  --data-binary "{\"today\":\"2026-11-27\",\"request\":\"$request\",\"chunk\":2000}")
kill_during "$job" destruction 2 s3
expect_exit 0 on zhang.op destroy execute --today 2026-11-27 --request "$request" --json
python3 -c 'import json; j = json.load(open("'"$work/out"'")); assert j["resumed"] is True, j'
expect_exit 0 on zhou.aud audit verify
echo "serve_winddown_e2e: $cases cases passed ($refusals refusals)"
