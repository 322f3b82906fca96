#!/usr/bin/env bash
# End to end: approvals beyond destruction, through the real binary
# (docs/people.md, docs/formats/approval.md).
#
#   tests/approvals_e2e.sh path/to/custos
#
# 1. A vault with a custodian, an operator, an officer, two supervisors (one
#    approving with their own OpenSSH key) and an auditor.
# 2. A transfer package in two steps: the operator's request, the officer's
#    signed approval, the run; the manifest carries the executed request,
#    `package verify` passes, and the review verifies with ssh-keygen.
# 3. Policies: shown; a count of zero and a policy nobody can meet are
#    refused; a change asked by the custodian, approved by the officer, runs
#    and new requests carry it.
# 4. Role grants once there are two custodians: a request, which neither
#    the asker nor the user concerned can approve and break-glass cannot go
#    around; the other custodian approves; it runs once.
# 5. The own-key supervisor approves from a statement signed elsewhere
#    (--print-statement, ssh-keygen -Y sign, --statement/--signature); a
#    signature over another request's statement is refused.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/custos" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
command -v oathtool >/dev/null || { echo "approvals_e2e: oathtool is missing (scripts/bootstrap)" >&2; exit 1; }
export CUSTOS_KEY_FILE="$work/k.key" CUSTOS_VAULT="$work/vault/v.vault" CUSTOS_ACTOR=keyholder
export XDG_STATE_HOME="$work/state"
export PW='分公司注销 correct horse'

. "$here/people_lib.sh"
. "$here/e2e_lib.sh"

# request_id: the request a command just printed with --json (in out).
request_id() { python3 -c 'import json; print(json.load(open("out"))["request"]["request"])'; }

# 1. The people.
mkdir vault sessions
"$custos" sample --rows 200 --seed 9 --out crm.csv 2>/dev/null
"$custos" init >/dev/null
"$custos" import crm.csv --dataset crm >/dev/null
ssh-keygen -q -t ed25519 -N '' -C sun.sup -f sun.key
enrol wang.cust custodian
login wang.cust
for u in zhang.op:operator li.off:officer zhao.sup:supervisor zhou.aud:auditor; do
  enrol "${u%%:*}" "${u#*:}" --session "$work/sessions/wang.cust"
  login "${u%%:*}"
done
# sun.sup approves with their own key: Custos never sees its private half.
"$custos" user add --id sun.sup --name 孙监督 --role supervisor --json \
  --session "$work/sessions/wang.cust" >sun.sup.add
SECRET=$(json_get sun.sup.add enrolment_secret) "$custos" user enrol --id sun.sup \
  --secret-env SECRET --password-env PW --ssh-key sun.key.pub --json >sun.sup.enrol
json_get sun.sup.enrol totp_secret >sun.sup.totp
login sun.sup
echo "签到表 2026-12-01" >evidence.txt
course=$(as li.off training course --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
for u in zhang.op li.off zhao.sup sun.sup; do
  expect_exit 0 as wang.cust training record --user "$u" --course "$course" --score 90 \
    --date 2026-12-01 --evidence evidence.txt
done

# 2. A transfer package in two steps.
"$custos" keys new-recipient --out ho-keys >/dev/null
expect_exit 0 as zhang.op recipient add --id ho --name 总公司 --uscc "$(uscc 91110000MA01ABCD1)" \
  --contact 010-12345678 --age-recipient "$(cat ho-keys/age.pub)" \
  --ssh-key "$(cat ho-keys/ssh_ed25519.pub)"
write_contract contract.txt
expect_exit 0 as zhang.op transfer plan --id T1 --recipient ho --mode head-office \
  --purpose 继续提供账户服务 --method 电子化存储 --fields 姓名,手机号 \
  --processor-name 某公司分公司 --processor-contact 010-1 --contract contract.txt \
  --approved-by li.off
expect_exit 0 as zhang.op transfer notices --transfer T1 --channel sms --out notices.csv
expect_exit 0 as zhang.op transfer package --transfer T1 --out T1.tar --json
request=$(request_id)
[ ! -e T1.tar ] || fail "the package was written before its approval"
expect_exit 6 as zhang.op transfer package --transfer T1 --out T1.tar --request "$request"
review() {  # review USER REQUEST [args]: password and the next step's code
  local user=$1 req=$2; shift 2
  CODE=$(fresh_code "$user") \
    "$custos" approve "$req" --user "$user" --password-env PW --totp-env CODE "$@"
}
expect_exit 5 review zhao.sup "$request"     # no slot for a supervisor
expect_exit 0 review li.off "$request" --json
expect_exit 0 as zhang.op transfer package --transfer T1 --out T1.tar --request "$request"
expect_exit 6 as zhang.op transfer package --transfer T1 --out T1b.tar --request "$request"
sender_key=$(as zhang.op keys public --format ssh | awk '{print $1" "$2}')
expect_exit 0 "$custos" package verify T1.tar --sender-key "$sender_key"
mkdir T1-x && tar -xf T1.tar -C T1-x
python3 - "$request" <<'PY'
import json, subprocess, sys
m = json.load(open("T1-x/manifest.json"))
a = m["authorisation"]
assert a["request"] == sys.argv[1] and a["state"] == "executed" and a["kind"] == "transfer.package", a
assert m["break_glass"] == {"uses": 0}, m["break_glass"]
r = a["reviews"][0]
assert r["reviewer"] == "li.off" and r["decision"] == "approve"
open("stmt", "w").write(r["statement"])
open("stmt.sig", "w").write(r["signature"])
open("allowed", "w").write('li.off namespaces="custos-approval" %s\n' % r["public_key"])
ok = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", "allowed", "-I", "li.off", "-n",
                     "custos-approval", "-s", "stmt.sig"], stdin=open("stmt"), capture_output=True)
assert ok.returncode == 0, ok.stderr
PY

# 3. Policies.
expect_exit 0 as zhang.op policy show --json
python3 -c '
import json
p = {x["kind"]: x for x in json.load(open("out"))["policies"]}
assert p["destroy.execute"]["default"] and [s["count"] for s in p["destroy.execute"]["slots"]] == [1, 2], p
assert p["policy.set"]["slots"] == [{"roles": ["officer"], "count": 1}], p'
expect_exit 2 as wang.cust policy set --kind destroy.execute --slot supervisor:0
expect_exit 2 as wang.cust policy set --kind nothing --slot supervisor:1
expect_exit 2 as wang.cust policy set --kind destroy.execute --slot root:1
expect_exit 6 as wang.cust policy set --kind destroy.execute --slot supervisor:3
grep -q 'cannot be met' err || fail "an unmeetable policy is not named as such"
expect_exit 5 as li.off policy set --kind destroy.execute --slot supervisor:2
expect_exit 0 as wang.cust policy set --kind destroy.execute --slot officer:1 --slot supervisor:1 --json
request=$(request_id)
expect_exit 6 as wang.cust policy set --kind destroy.execute --slot officer:1 --slot supervisor:1 \
  --request "$request"                        # not approved yet
expect_exit 0 review li.off "$request"
expect_exit 6 as wang.cust policy set --kind destroy.execute --slot officer:1 --slot supervisor:2 \
  --request "$request"                        # not what was approved
expect_exit 0 as wang.cust policy set --kind destroy.execute --slot officer:1 --slot supervisor:1 \
  --request "$request"
expect_exit 0 as zhang.op policy show
grep -q "destroy.execute *1 of officer, 1 of supervisor  (set .* by wang.cust, request $request)" out ||
  { cat out; fail "policy show does not show the change"; }

# 4. Role grants once there are two custodians.
enrol ma.cust custodian --session "$work/sessions/wang.cust"   # one custodian: at once
login ma.cust
expect_exit 0 as wang.cust training record --user ma.cust --course "$course" --score 90 \
  --date 2026-12-01 --evidence evidence.txt
expect_exit 0 as wang.cust user roles --id zhao.sup --set supervisor,approver --json
request=$(request_id)
as wang.cust user show --id zhao.sup --json >zhao.json
[ "$(json_get zhao.json roles)" = "['supervisor']" ] || fail "a grant ran before its approval"
expect_exit 5 review wang.cust "$request"    # the asker
expect_exit 5 "$custos" user roles --id zhao.sup --set supervisor,approver --break-glass
expect_exit 0 as wang.cust user roles --id ma.cust --set custodian,supervisor --json
own=$(request_id)
expect_exit 5 review ma.cust "$own"          # the user concerned
expect_exit 0 review ma.cust "$request"
expect_exit 6 as wang.cust user roles --id zhao.sup --set supervisor --request "$request"
expect_exit 0 as wang.cust user roles --id zhao.sup --set approver,supervisor --request "$request"
as wang.cust user show --id zhao.sup --json >zhao.json
[ "$(json_get zhao.json roles)" = "['approver', 'supervisor']" ] || fail "the approved grant did not run"
expect_exit 6 as wang.cust user roles --id zhao.sup --set approver,supervisor --request "$request"
expect_exit 0 as wang.cust user add --id he.off --name 何 --role auditor --json
request=$(request_id)
expect_exit 0 review ma.cust "$request"
expect_exit 0 as wang.cust user add --id he.off --name 何 --role auditor --request "$request" --json
[ -n "$(json_get out enrolment_secret)" ] || fail "no enrolment secret once the grant ran"

# 5. A statement signed elsewhere. Packages now need a supervisor too.
expect_exit 0 as wang.cust policy set --kind transfer.package --slot officer --slot supervisor --json
request=$(request_id)
expect_exit 0 review li.off "$request"
expect_exit 0 as wang.cust policy set --kind transfer.package --slot officer --slot supervisor \
  --request "$request"
expect_exit 0 as zhang.op transfer plan --id T2 --recipient ho --mode head-office \
  --purpose 继续提供账户服务 --method 电子化存储 --fields 姓名 \
  --processor-name 某公司分公司 --processor-contact 010-1 --contract contract.txt \
  --approved-by li.off
expect_exit 0 as zhang.op transfer notices --transfer T2 --channel sms --out notices2.csv
expect_exit 0 as zhang.op transfer package --transfer T2 --out T2.tar --json
request=$(request_id)
expect_exit 0 as wang.cust policy set --kind transfer.package --slot officer --json
other=$(request_id)
expect_exit 0 as sun.sup approve "$request" --print-statement
cp out statement
grep -q "^reviewer sun.sup$" statement || fail "the statement does not name the reviewer"
ssh-keygen -q -Y sign -f sun.key -n custos-approval statement
expect_exit 0 as sun.sup approve "$other" --print-statement
cp out other-statement
ssh-keygen -q -Y sign -f sun.key -n custos-approval other-statement
expect_exit 8 as sun.sup approve "$request" --statement other-statement \
  --signature other-statement.sig                 # signed for another request
expect_exit 2 as sun.sup approve "$request" --signature statement.sig   # no --statement
expect_exit 0 as sun.sup approve "$request" --statement statement --signature statement.sig --json
expect_exit 0 review li.off "$request"
expect_exit 0 as zhang.op transfer package --transfer T2 --out T2.tar --request "$request"
mkdir T2-x && tar -xf T2.tar -C T2-x
python3 - "$(cat sun.key.pub)" <<'PY'
import json, subprocess, sys
a = json.load(open("T2-x/manifest.json"))["authorisation"]
assert [s["count"] for s in a["policy"]["slots"]] == [1, 1], a["policy"]
r = [v for v in a["reviews"] if v["reviewer"] == "sun.sup"][0]
assert r["public_key"].split()[:2] == sys.argv[1].split()[:2], r["public_key"]
open("stmt", "w").write(r["statement"])
open("stmt.sig", "w").write(r["signature"])
open("allowed", "w").write('sun.sup namespaces="custos-approval" %s\n' % sys.argv[1])
ok = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", "allowed", "-I", "sun.sup", "-n",
                     "custos-approval", "-s", "stmt.sig"], stdin=open("stmt"), capture_output=True)
assert ok.returncode == 0, ok.stderr
PY
# A deny signed elsewhere ends the other request.
expect_exit 0 as sun.sup approve "$other" --deny --print-statement
cp out deny-statement
ssh-keygen -q -Y sign -f sun.key -n custos-approval deny-statement
expect_exit 0 as sun.sup approve "$other" --deny --statement deny-statement \
  --signature deny-statement.sig --json
python3 -c '
import json
r = json.load(open("out"))
assert r["state"] == "denied", r["state"]
assert r["reviews"][-1]["reviewer"] == "sun.sup" and r["reviews"][-1]["decision"] == "deny"'

[ "$cases" -ge 40 ] || fail "only $cases cases"
echo "approvals_e2e: $cases cases, $refusals refusals, all as expected"
