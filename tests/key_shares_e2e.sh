#!/usr/bin/env bash
# End to end: the vault's key split into custodians' shares with
# `custos keys split`, each share opened by stock `age -d`, any K of them
# opening the vault, fewer not, and each refusal with its exit code.
#
#   tests/key_shares_e2e.sh path/to/custos
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/custos" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export CUSTOS_VAULT="$work/v.vault" CUSTOS_ACTOR=e2e
unset CUSTOS_KEY_FILE CUSTOS_PASSPHRASE

cases=0
fail() { echo "key_shares_e2e: $*" >&2; exit 1; }
expect_exit() {  # expect_exit CODE cmd...
  local want=$1; shift
  set +e; "$@" >out 2>err; local got=$?; set -e
  [ "$got" = "$want" ] || { cat out err >&2; fail "exit $got, want $want: $*"; }
  cases=$((cases + 1))
}

"$custos" init --key-file k.key >/dev/null
"$custos" sample --rows 50 --seed 3 --out crm.csv 2>/dev/null
"$custos" import crm.csv --dataset crm --key-file k.key >/dev/null
for c in 1 2 3; do age-keygen -o "c$c.key" 2>/dev/null; done
to="$(age-keygen -y c1.key),$(age-keygen -y c2.key),$(age-keygen -y c3.key)"

# Bad requests change nothing.
expect_exit 2 "$custos" keys split --key-file k.key --threshold 4 --to "$to" --out shares
expect_exit 2 "$custos" keys split --key-file k.key --threshold 2 --to "$(age-keygen -y c1.key)" \
  --out shares
expect_exit 2 "$custos" keys split --key-file k.key --threshold 2 \
  --to "$(age-keygen -y c1.key),$(age-keygen -y c1.key)" --out shares
expect_exit 2 "$custos" keys split --key-file k.key --threshold 2 --to "age1nope,age1nope2" \
  --out shares
[ ! -e shares ] || [ -z "$(ls -A shares)" ] || fail "a refused split left files"

expect_exit 0 "$custos" keys split --key-file k.key --threshold 2 --to "$to" --out shares --json
python3 - <<'PY'
import json
j = json.load(open("out"))
assert j["threshold"] == 2 and len(j["shares"]) == 3, j
assert [s["file"].endswith("share-%d.age" % (i + 1)) for i, s in enumerate(j["shares"])] == [True] * 3
PY
# Stock age opens a share; its plaintext is the documented line of JSON.
age -d -i c1.key shares/share-1.age >s1.json
python3 - "$("$custos" keys public --key-file k.key --format ssh | sed 's/.*custos-vault-//')" <<'PY'
import json, sys
s = json.load(open("s1.json"))
assert s["custos_key_share"] == 1 and s["vault"] == sys.argv[1], s
assert s["index"] == 1 and s["threshold"] == 2 and s["shares"] == 3 and s["key_version"] == 1, s
assert len(s["value"]) == 64 and len(s["split"]) == 32, s
PY
[ "$(stat -c %a shares/share-2.age)" = 600 ] || fail "a share file is not 0600"
# The share of custodian 2 is not custodian 1's to open.
set +e; age -d -i c1.key shares/share-2.age >/dev/null 2>&1 && fail "c1 opened c2's share"; set -e

# Two shares (one opened by age, one opened by Custos with its identity) open the vault.
expect_exit 0 "$custos" audit verify --share s1.json --share shares/share-2.age \
  --share-identity c2.key
age -d -i c3.key shares/share-3.age >s3.json
expect_exit 0 "$custos" find --share s3.json --share s1.json --id "$(sed -n 2p crm.csv | cut -d, -f4)"
# One is not enough; one twice is refused; still encrypted without an identity is refused.
expect_exit 6 "$custos" audit verify --share s1.json
grep -q "1 more" err || fail "no 'how many more' in: $(cat err)"
expect_exit 2 "$custos" audit verify --share s1.json --share s1.json
expect_exit 2 "$custos" audit verify --share s1.json --share shares/share-2.age
grep -q "share-identity" err || fail "no hint about --share-identity: $(cat err)"
expect_exit 2 "$custos" audit verify --share s1.json --share s3.json --key-file k.key
# A damaged share: the rebuilt key does not open the vault.
python3 - <<'PY'
import json
s = json.load(open("s3.json"))
s["value"] = ("0" if s["value"][0] != "0" else "1") + s["value"][1:]
open("s3-bad.json", "w").write(json.dumps(s))
PY
expect_exit 8 "$custos" audit verify --share s1.json --share s3-bad.json
# The split is in the audit log with the custodians' recipients, and no share value.
"$custos" audit log --key-file k.key --action keys.split --json >log.json
python3 - "$to" <<'PY'
import json, sys
entries = json.load(open("log.json"))
entries = entries["entries"] if isinstance(entries, dict) else entries
splits = [e for e in entries if e["action"] == "keys.split"]
assert len(splits) == 1, splits
assert splits[0]["objects"]["holders"] == sys.argv[1].split(","), splits[0]
PY
value=$(python3 -c 'import json; print(json.load(open("s1.json"))["value"])')
if grep -a -q -F "$value" v.vault*; then fail "a share value is in the vault's files"; fi
# After a rotation the old shares no longer work, and say why.
expect_exit 0 "$custos" keys rotate --key-file k.key --new-key-file k2.key
expect_exit 6 "$custos" audit verify --share s1.json --share s3.json
grep -q "key version 1" err || fail "no key version in: $(cat err)"

echo "key_shares_e2e: $cases cases, all as expected"
