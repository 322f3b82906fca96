#!/usr/bin/env bash
# End to end: people on one vault, through the real binary (docs/people.md).
#
#   tests/people_e2e.sh path/to/custos
#
# 1. The key holder adds the first user (a custodian), who enrols and logs
#    in; the custodian adds an operator, an officer, an approver, two
#    supervisors and an auditor, who each enrol and log in (their one-time
#    codes computed by Debian's oathtool, apart from Custos).
# 2. A table of role cases: each command, run by each role, exits 0 or 5
#    (permission_denied), and every refusal is an audit entry.
# 3. Without a session a personal-data command is refused (exit 8);
#    break-glass does a custodian's work and nothing else.
# 4. The officer cannot read in clear before a passed training; after one
#    is recorded (classroom, by the custodian, with evidence), can.
# 5. A replayed one-time code is refused; five wrong passwords lock a user.
# 6. A suspended user's sessions end; after the suspension is lifted they
#    log in again.
# 7. Destruction in two steps: a request, approvals signed by the officer
#    and two supervisors, the run; the certificate's reviews verify with
#    ssh-keygen against the keys the audit log bound at enrolment; it and
#    the audit log show that break-glass was used.
# 8. No password, TOTP secret or session token in the vault's files, and no
#    password or TOTP secret in the session files.
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
command -v oathtool >/dev/null || { echo "people_e2e: oathtool is missing (scripts/bootstrap)" >&2; exit 1; }
export CUSTOS_KEY_FILE="$work/k.key" CUSTOS_VAULT="$work/vault/v.vault" CUSTOS_ACTOR=keyholder
export XDG_STATE_HOME="$work/state"
export PW='分公司注销 correct horse'

. "$here/people_lib.sh"

mkdir vault
"$custos" sample --rows 300 --seed 5 --out crm.csv 2>/dev/null
"$custos" init >/dev/null
"$custos" import crm.csv --dataset crm >/dev/null
mobile=$(python3 -c 'import csv; r=list(csv.DictReader(open("crm.csv"))); print(r[0]["手机号"])')

mkdir sessions

# 1. The first user; from here on the rules apply.
enrol wang.cust custodian
login wang.cust
for u in zhang.op:operator li.off:officer qian.appr:approver zhao.sup:supervisor \
  sun.sup:supervisor zhou.aud:auditor lock.me:operator; do
  enrol "${u%%:*}" "${u#*:}" --session "$work/sessions/wang.cust"
done
for u in zhang.op li.off qian.appr zhao.sup sun.sup zhou.aud; do login "$u"; done
expect_exit 2 as wang.cust user add --id bad --name x --role auditor,officer

# 2. The role table.
purpose=(--purpose "核对身份")
expect_exit 0 as zhang.op find --mobile "$mobile"
expect_exit 0 as zhang.op show --mobile "$mobile"
expect_exit 5 as zhang.op show --mobile "$mobile" --clear "${purpose[@]}"
expect_exit 0 as zhang.op import crm.csv --dataset crm2
expect_exit 5 as zhang.op user list
expect_exit 5 as zhang.op audit log
expect_exit 0 as zhang.op destroy plan
expect_exit 0 as zhang.op transfer status
expect_exit 5 as zhang.op vault purge
expect_exit 0 as li.off find --mobile "$mobile"
expect_exit 5 as li.off import crm.csv --dataset crm3
expect_exit 5 as li.off user add --id x1 --name x --role operator
expect_exit 0 as li.off audit log
expect_exit 0 as li.off destroy plan
expect_exit 5 as qian.appr show --mobile "$mobile"
expect_exit 5 as qian.appr find --mobile "$mobile"
expect_exit 0 as qian.appr destroy plan
expect_exit 5 as qian.appr audit log
expect_exit 5 as qian.appr import crm.csv --dataset crm4
expect_exit 0 as zhao.sup destroy plan
expect_exit 0 as zhao.sup audit log
expect_exit 5 as zhao.sup show --mobile "$mobile"
expect_exit 5 as zhao.sup show --mobile "$mobile" --clear "${purpose[@]}"
expect_exit 0 as zhou.aud audit log
expect_exit 0 as zhou.aud audit verify
expect_exit 0 as zhou.aud audit export --out "$work/export"
expect_exit 0 as zhou.aud user list
expect_exit 5 as zhou.aud show --mobile "$mobile"
expect_exit 5 as zhou.aud find --mobile "$mobile"
expect_exit 5 as zhou.aud import crm.csv --dataset crm5
expect_exit 5 as zhou.aud user add --id x2 --name x --role operator
expect_exit 0 as wang.cust user list
expect_exit 0 as wang.cust vault purge
expect_exit 5 as wang.cust show --mobile "$mobile"
expect_exit 5 as wang.cust find --mobile "$mobile"
expect_exit 5 as wang.cust import crm.csv --dataset crm6
expect_exit 5 as wang.cust destroy plan

# 3. No session: refused before anything; break-glass is a custodian's only.
expect_exit 8 "$custos" show --mobile "$mobile"
expect_exit 0 "$custos" user list --break-glass
expect_exit 5 "$custos" show --mobile "$mobile" --break-glass
expect_exit 5 "$custos" import crm.csv --dataset crm7 --break-glass

# 4. Training before clear reads: recorded for the officer by the custodian.
expect_exit 5 as li.off show --mobile "$mobile" --clear "${purpose[@]}"
grep -q 'training' err || fail "the refusal does not name the training"
echo "签到表 2026-12-01" >evidence.txt
course=$("$custos" training course --json --session "$work/sessions/li.off" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
expect_exit 5 as li.off training record --user li.off --course "$course" --score 95 \
  --date 2026-12-01 --evidence evidence.txt
expect_exit 0 as wang.cust training record --user li.off --course "$course" --score 95 \
  --date 2026-12-01 --evidence evidence.txt
expect_exit 0 as li.off show --mobile "$mobile" --clear "${purpose[@]}"
grep -q "$mobile" out || fail "the trained officer's clear read does not show the mobile"
expect_exit 0 as li.off training records

# Every refusal is in the log.
as zhou.aud audit log --json >log.json
python3 - "$refusals" <<'PY'
import json, sys
want = int(sys.argv[1])
entries = json.load(open("log.json"))
entries = entries.get("entries", entries) if isinstance(entries, dict) else entries
refused = [e for e in entries if e["result"] == "refused" and e.get("via") in ("password+totp", "break-glass")
           and e["action"] not in ("user.login", "user.enrol")]
assert len(refused) >= want, (len(refused), want)
actors = {e["actor"] for e in refused}
assert {"zhang.op", "qian.appr", "zhou.aud", "wang.cust", "keyholder"} <= actors, actors
PY

# 5. A replayed code; five wrong passwords lock.
code=$(oathtool --totp -b "$(cat lock.me.totp)")
CODE=$code expect_exit 0 "$custos" login --user lock.me --password-env PW --totp-env CODE \
  --session "$work/sessions/lock.me"
CODE=$code expect_exit 8 "$custos" login --user lock.me --password-env PW --totp-env CODE \
  --session "$work/sessions/lock.me"
grep -q 'already used' err || fail "a replayed code is not named as such"
for i in 1 2 3 4 5; do
  WRONG='not the password' CODE=000000 expect_exit 8 "$custos" login --user lock.me \
    --password-env WRONG --totp-env CODE --session "$work/sessions/lock.me"
done
CODE=$(oathtool --totp -b "$(cat lock.me.totp)") expect_exit 8 "$custos" login --user lock.me \
  --password-env PW --totp-env CODE --session "$work/sessions/lock.me"
grep -q 'locked' err || fail "the locked user is not told so"

# 6. Suspension ends the user's sessions; after it is lifted they log in again
#    (with the next step's code: the first may still be current).
expect_exit 0 as wang.cust user suspend --id zhang.op
expect_exit 5 as zhang.op show --mobile "$mobile"
expect_exit 0 as wang.cust user resume --id zhang.op
expect_exit 8 as zhang.op show --mobile "$mobile"
sleep 1  # a session begun in the second of the suspension counts as before it
CODE=$(oathtool --totp -b -N "@$(($(date +%s) + 30))" "$(cat zhang.op.totp)") \
  expect_exit 0 "$custos" login --user zhang.op --password-env PW --totp-env CODE \
  --session "$work/sessions/zhang.op"
expect_exit 0 as zhang.op show --mobile "$mobile"

# 7. Destruction in two steps: the operator's request, approvals signed by
#    the officer and two supervisors (trained), then the run; the
#    certificate carries each review, which stock ssh-keygen verifies
#    against the key the enrolment's audit entry bound to the reviewer.
for u in zhao.sup sun.sup; do
  expect_exit 0 as wang.cust training record --user "$u" --course "$course" --score 90 \
    --date 2026-12-01 --evidence evidence.txt
done
expect_exit 0 as zhang.op destroy execute --json
request=$(python3 -c 'import json; print(json.load(open("out"))["request"]["request"])')
expect_exit 6 as zhang.op destroy execute --request "$request"
approve() {  # approve USER [args]: password and the next step's code
  local user=$1; shift
  CODE=$(oathtool --totp -b -N "@$(($(date +%s) + 30))" "$(cat "$user.totp")") \
    "$custos" approve "$request" --user "$user" --password-env PW --totp-env CODE "$@"
}
expect_exit 5 approve qian.appr               # no passed training
approve li.off --json >/dev/null
approve zhao.sup --json >/dev/null
expect_exit 8 approve li.off                   # the same code again (twice: access_test)
approve sun.sup --json >approved.json
python3 -c 'import json; assert json.load(open("approved.json"))["state"] == "approved"'
expect_exit 0 as zhang.op destroy execute --request "$request"
expect_exit 6 as zhang.op request cancel "$request"   # executed: final
expect_exit 0 as zhang.op certificate --out cert
# Witnesses of a physical destruction are trained supervisors, by user id.
media() { as zhang.op media record --id HDD-1 --kind disk --method shred --executor 服务商 "$@"; }
expect_exit 2 media --witness 合规专员 --witness zhao.sup    # a name, not a user
expect_exit 5 media --witness li.off --witness zhao.sup      # not a supervisor
expect_exit 5 media --witness qian.appr --witness zhao.sup   # not a supervisor either
expect_exit 0 media --witness zhao.sup --witness sun.sup
as zhou.aud audit export --out audit-out >/dev/null
python3 - <<'PY'
import json, subprocess, os
cert = json.load(open("cert/certificate.json"))
a = cert["authorisation"]
assert a and a["state"] == "executed", a
enrolled = {}
for line in open("audit-out/entries.jsonl"):
    e = json.loads(line)
    if e["action"] in ("user.enrol", "user.reset") and e["result"] == "ok":
        enrolled[e["objects"]["user"]] = e["objects"]["approval_key"]
assert cert["approver"] == "li.off" and sorted(cert["supervisors"]) == ["sun.sup", "zhao.sup"], cert
# Section 3's break-glass refusals (a read, an import) show, in JSON and HTML.
bg = cert["break_glass"]
assert bg["uses"] >= 2 and bg["first_seq"] < bg["last_seq"], bg
assert "应急通道已使用" in open("cert/certificate.html", encoding="utf-8").read()
for r in a["reviews"]:
    assert r["public_key"] == enrolled[r["reviewer"]], r["reviewer"]
    open("stmt", "w").write(r["statement"])
    open("stmt.sig", "w").write(r["signature"])
    open("allowed", "w").write('%s namespaces="custos-approval" %s\n' % (r["reviewer"], r["public_key"]))
    ok = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", "allowed", "-I", r["reviewer"],
                         "-n", "custos-approval", "-s", "stmt.sig"], stdin=open("stmt"),
                        capture_output=True)
    assert ok.returncode == 0, ok.stderr
    # The same signature over a statement naming another decision fails.
    open("stmt", "w").write(r["statement"].replace("decision approve", "decision deny"))
    bad = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", "allowed", "-I", r["reviewer"],
                          "-n", "custos-approval", "-s", "stmt.sig"], stdin=open("stmt"),
                         capture_output=True)
    assert bad.returncode != 0
PY

# The auditor sees the same break-glass entries in the log itself.
as zhou.aud audit verify --json >verify.json
as zhou.aud audit log --via break-glass --json >bg.json
python3 -c '
import json
v = json.load(open("verify.json"))["break_glass"]
log = [e["seq"] for e in json.load(open("bg.json"))]
assert len(v) >= 2 and v == log, (v, log)'
set +e; as zhou.aud deregister check --json >dereg.json 2>/dev/null; set -e
python3 -c 'import json; assert json.load(open("dereg.json"))["break_glass"]["uses"] >= 2'

# 8. Secrets.
for u in wang.cust zhang.op li.off zhou.aud; do
  secret=$(cat "$u.totp")
  if grep -rqF "$secret" vault sessions; then fail "$u's TOTP secret in clear"; fi
done
if grep -rqF "$PW" vault sessions; then fail "a password in clear"; fi
for u in zhang.op li.off; do
  token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "sessions/$u")
  if grep -rqF "$token" vault; then fail "$u's session token in the vault"; fi
  [ "$(stat -c %a "sessions/$u")" = 600 ] || fail "session file mode"
done

[ "$cases" -ge 30 ] || fail "only $cases cases"
echo "people_e2e: $cases cases, $refusals refusals, all as expected"
