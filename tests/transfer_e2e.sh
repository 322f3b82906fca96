#!/usr/bin/env bash
# End to end: a transfer under each mode, through the real binary and the
# real age, ssh-keygen and tar (docs/formats/package.md).
#
#   tests/transfer_e2e.sh path/to/custos
#
# Sender: sample, init, import, recipient add (keys from age-keygen and
# ssh-keygen, or custos keys new-recipient), transfer plan, notices,
# responses, package, status. Recipient: package verify, import (twice:
# already_exists), receipt. Sender: close (a receipt by another key:
# unauthenticated; for another package: failed_precondition). Tampered
# packages: data_loss, nothing imported. Frozen fields (retention apply):
# plan warns, package and status count what was withheld, age -d shows none.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/custos" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"  # uscc
# The stock tools a recipient uses (scripts/bootstrap installs them): a test
# that skipped without them would pass without testing anything.
for tool in age ssh-keygen tar python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "transfer_e2e: $tool is not installed (scripts/bootstrap installs it)" >&2
    exit 1
  fi
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export CUSTOS_ACTOR=e2e

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect CODE command...: the command must exit with CODE.
expect() {
  local want="$1"; shift
  set +e
  "$@" >out.txt 2>err.txt
  local got=$?
  set -e
  [ "$got" = "$want" ] || { cat out.txt err.txt >&2; fail "'$*' exited $got, want $want"; }
}

"$custos" sample --rows 80 --seed 3 --out crm.csv
"$custos" init --vault s.vault --key-file s.key >/dev/null
"$custos" import crm.csv --vault s.vault --key-file s.key --dataset crm >/dev/null
sender_key="$("$custos" keys public --vault s.vault --key-file s.key --format ssh | awk '{print $1" "$2}')"
S=(--vault s.vault --key-file s.key)

# Recipient keys from the stock tools...
age-keygen -o ho-age.key 2>/dev/null
ssh-keygen -q -t ed25519 -N '' -C ho -f ho-ssh
# ...and from custos.
"$custos" keys new-recipient --out buyer >/dev/null
[ "$(stat -c %a buyer/age.key)" = 600 ] || fail "age.key not 0600"
[ "$(stat -c %a buyer/ssh_ed25519)" = 600 ] || fail "ssh_ed25519 not 0600"
[ "$(age-keygen -y buyer/age.key)" = "$(cat buyer/age.pub)" ] || fail "age-keygen disagrees with age.pub"
[ "$(ssh-keygen -y -f buyer/ssh_ed25519 | awk '{print $2}')" = "$(awk '{print $2}' buyer/ssh_ed25519.pub)" ] \
  || fail "ssh-keygen cannot read the private key custos wrote"

uscc1=$(uscc 91110000600037341)
uscc2=$(uscc 91310000MA1FL0000)
"$custos" recipient add "${S[@]}" --id ho --name 总公司 --uscc "$uscc1" --contact "010-12345678" \
  --age-recipient "$(age-keygen -y ho-age.key)" --ssh-key "$(cat ho-ssh.pub)" >/dev/null
"$custos" recipient add "${S[@]}" --id buyer --name 买方 --uscc "$uscc2" --contact "021-1234" \
  --age-recipient "$(cat buyer/age.pub)" --ssh-key "$(cat buyer/ssh_ed25519.pub)" >/dev/null
expect 2 "$custos" recipient add "${S[@]}" --id bad --name x --uscc 123 --contact c \
  --age-recipient "$(cat buyer/age.pub)" --ssh-key "$(cat buyer/ssh_ed25519.pub)"

cat > contract.txt <<'T'
# contract terms
scope = 姓名、手机号，仅限本次转移的客户
security = encryption at rest, access control
no_onward_transfer = yes
return_or_delete = delete within 30 days after termination
audit_right = sender may audit once a year
breach_notice = within 24 hours
retention = 账户关闭后五年
T

"$custos" init --vault r.vault --key-file r.key >/dev/null
R=(--vault r.vault --key-file r.key)

i=0
for mode in head-office art22 art23; do
  i=$((i + 1))
  T="T$i"
  expect 2 "$custos" transfer plan "${S[@]}" --id "$T" --recipient ho --mode "$mode" --purpose 客户服务 \
    --fields 姓名,微信号
  grep -q 微信号 err.txt || fail "unknown field not named"
  "$custos" transfer plan "${S[@]}" --id "$T" --recipient ho --mode "$mode" --purpose 继续提供账户服务 \
    --method 电子化存储 --fields 姓名,手机号 --processor-name 某公司北京分公司 \
    --processor-contact 010-88888888 --contract contract.txt >/dev/null
  expect 6 "$custos" transfer package "${S[@]}" --transfer "$T" --out "$T.tar"
  grep -q approved_by err.txt || fail "missing approval not listed"
  "$custos" transfer terms "${S[@]}" --transfer "$T" --approved-by CPO >/dev/null
  "$custos" transfer notices "${S[@]}" --transfer "$T" --channel sms --out "$T-sms.csv" 2>notice-err.txt >/dev/null
  grep -q "contact data" notice-err.txt || fail "no contact-data warning"
  head -1 "$T-sms.csv" | grep -q '^ref,mobile,message' || fail "notice CSV header"
  grep -q '告知书' "$T-sms.csv" || fail "no Chinese notice"
  "$custos" transfer notices "${S[@]}" --transfer "$T" --channel email --lang en --out "$T-mail.csv" 2>/dev/null >/dev/null
  # Responses: first notice objects, second consents (Chinese), third withdraws.
  python3 - "$T-sms.csv" > "$T-resp.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
print("ref,response,time,evidence,sensitive_consent,guardian_consent")
answers = ["反对", "同意", "withdraw", "consent", "consent"]
for i, r in enumerate(rows[:5]):
    print(f"{r['ref']},{answers[i]},2026-11-20T10:00:00+08:00,sms,no,yes")
PY
  printf 'ref,response,time\nNOTAREF1,consent,2026-11-20\n' > bad-resp.csv
  expect 2 "$custos" transfer responses "${S[@]}" --transfer "$T" --file bad-resp.csv
  grep -q "line 2" err.txt || fail "bad response line not named"
  "$custos" transfer responses "${S[@]}" --transfer "$T" --file "$T-resp.csv" >/dev/null
  "$custos" transfer package "${S[@]}" --transfer "$T" --out "$T.tar" --json > "$T-pkg.json"
  "$custos" transfer status "${S[@]}" --transfer "$T" --json > "$T-status.json"
  people=$(python3 -c "import json;print(json.load(open('$T-pkg.json'))['people'])")
  if [ "$mode" = art23 ]; then [ "$people" = 3 ] || fail "art23 included $people, want 3"; fi

  # Stock tools open it.
  mkdir "x$T" && tar -xf "$T.tar" -C "x$T"
  echo "branch $sender_key" > allowed
  ssh-keygen -Y verify -f allowed -I branch -n custos-package -s "x$T/manifest.json.sig" < "x$T/manifest.json" >/dev/null \
    || fail "ssh-keygen does not verify the manifest"
  age -d -i ho-age.key "x$T/payload.jsonl.age" > "x$T/payload.jsonl"
  [ "$(wc -l < "x$T/payload.jsonl")" = "$people" ] || fail "payload lines"
  # Only planned fields: no ID numbers, bank cards or e-mails.
  python3 - "x$T/payload.jsonl" crm.csv <<'PY'
import csv, json, sys
payload = open(sys.argv[1], encoding="utf-8").read()
for line in payload.splitlines():
    for rec in json.loads(line)["records"]:
        assert set(rec["fields"]) <= {"姓名", "手机号"}, rec["fields"].keys()
for row in csv.DictReader(open(sys.argv[2], encoding="utf-8-sig")):
    for col in ("身份证号", "银行卡号", "电子邮箱", "联系地址"):
        v = row[col].strip()
        assert not v or v not in payload, col
PY

  "$custos" package verify "$T.tar" --sender-key "$sender_key" >/dev/null
  expect 8 "$custos" package verify "$T.tar" --sender-key "$(cat buyer/ssh_ed25519.pub)"
  # A flipped byte in the payload, then in the manifest: data_loss, nothing imported.
  for off in 700 2000; do
    cp "$T.tar" bad.tar
    python3 -c "
d=bytearray(open('bad.tar','rb').read()); d[$off]^=0x5a; open('bad.tar','wb').write(d)"
    expect 7 "$custos" package import bad.tar "${R[@]}" --identity ho-age.key --sender-key "$sender_key"
  done
  head -c 3000 "$T.tar" > trunc.tar
  expect 7 "$custos" package import trunc.tar "${R[@]}" --identity ho-age.key --sender-key "$sender_key"
  expect 5 "$custos" package import "$T.tar" "${R[@]}" --identity buyer/age.key --sender-key "$sender_key"
  "$custos" package import "$T.tar" "${R[@]}" --identity ho-age.key --sender-key "$sender_key" >/dev/null
  expect 4 "$custos" package import "$T.tar" "${R[@]}" --identity ho-age.key --sender-key "$sender_key" --dataset again
  "$custos" package receipt "$T.tar" "${R[@]}" --ssh-key ho-ssh --out "$T.receipt" >/dev/null
  "$custos" package receipt "$T.tar" "${R[@]}" --ssh-key buyer/ssh_ed25519 --out "$T-forged.receipt" >/dev/null
  # The receipt verifies with stock ssh-keygen too.
  head -1 "$T.receipt" | tr -d '\n' > r.json
  tail -n +2 "$T.receipt" > r.sig
  echo "ho $(cat ho-ssh.pub)" > allowed-r
  ssh-keygen -Y verify -f allowed-r -I ho -n custos-receipt -s r.sig < r.json >/dev/null || fail "receipt signature"
  expect 8 "$custos" transfer close "${S[@]}" --transfer "$T" --receipt "$T-forged.receipt"
  if [ "$i" -gt 1 ]; then
    expect 6 "$custos" transfer close "${S[@]}" --transfer "$T" --receipt "T1.receipt"
  fi
  "$custos" transfer close "${S[@]}" --transfer "$T" --receipt "$T.receipt" >/dev/null
  "$custos" transfer status "${S[@]}" --transfer "$T" --json | python3 -c "
import json,sys; s=json.load(sys.stdin); assert s['state']=='closed', s['state']"
done

# Frozen data (PIPL Art. 47 ¶2): addresses bound to a 30-year rule from today
# are frozen for everyone. Planning them warns; the package leaves them out
# and counts what it withheld; status says so too.
"$custos" retention apply "${S[@]}" --rule accounting-vouchers-books --dataset crm --fields 联系地址 \
  --start-date "$(date -u +%Y-%m-%d)" >/dev/null
"$custos" transfer plan "${S[@]}" --id T4 --recipient ho --mode head-office --purpose 继续提供账户服务 \
  --method 电子化存储 --fields 姓名,联系地址 --processor-name 某公司北京分公司 \
  --processor-contact 010-88888888 --contract contract.txt --approved-by CPO --json >T4-plan.json 2>T4-plan.err
grep -q "custos: warning:" T4-plan.err || fail "planning a frozen field does not warn"
grep -q 联系地址 T4-plan.err || fail "the warning does not name the frozen field"
"$custos" transfer notices "${S[@]}" --transfer T4 --channel sms --out T4-sms.csv >/dev/null 2>&1
"$custos" transfer package "${S[@]}" --transfer T4 --out T4.tar --json >T4-pkg.json
"$custos" transfer status "${S[@]}" --transfer T4 --json >T4-status.json
mkdir xT4 && tar -xf T4.tar -C xT4
age -d -i ho-age.key xT4/payload.jsonl.age >xT4/payload.jsonl
python3 - T4-plan.json T4-pkg.json T4-status.json xT4/manifest.json xT4/payload.jsonl crm.csv <<'PY'
import csv, json, sys
plan, pkg, status, manifest = (json.load(open(f)) for f in sys.argv[1:5])
payload = open(sys.argv[5], encoding="utf-8").read()
people = pkg["people"]
want = {"联系地址": people}
assert plan["frozen_fields"] == want, plan["frozen_fields"]
assert pkg["withheld_frozen"] == want, pkg
assert status["withheld_frozen"] == want, status
assert manifest["counts"]["withheld_frozen"] == want, manifest["counts"]
assert len(payload.splitlines()) == people
for line in payload.splitlines():
    for rec in json.loads(line)["records"]:
        assert set(rec["fields"]) <= {"姓名"}, rec["fields"].keys()
for row in csv.DictReader(open(sys.argv[6], encoding="utf-8-sig")):
    v = row["联系地址"].strip()
    assert not v or v not in payload, "a frozen address left"
PY

"$custos" transfer status "${S[@]}" >/dev/null
"$custos" audit verify "${S[@]}" >/dev/null
"$custos" audit verify "${R[@]}" >/dev/null
for a in recipient.add transfer.plan transfer.notices transfer.responses transfer.package transfer.close; do
  "$custos" audit export "${S[@]}" --out exp >/dev/null
  grep -q "\"action\":\"$a\"" exp/entries.jsonl || fail "no $a audit entry"
done
"$custos" audit export "${R[@]}" --out rexp >/dev/null
for a in package.import package.receipt; do
  grep -q "\"action\":\"$a\"" rexp/entries.jsonl || fail "no $a audit entry"
done
echo "transfer_e2e: OK"
