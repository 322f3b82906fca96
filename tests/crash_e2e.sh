#!/usr/bin/env bash
# End to end: commands killed at every durable write, then run again.
#
#   tests/crash_e2e.sh path/to/custos path/to/libcustos_killpoint.so
#
# For import, transfer notices, transfer package, keys rotate and destroy
# execute: the command runs once uninterrupted (the reference), and once
# more for every durable write it makes (fsync, fdatasync, rename, link:
# counted by the killpoint library), killed with SIGKILL just before that
# write, on a fresh copy of the same vault. After each kill:
#   - no temporary file is left, and every output file that exists is one
#     the audit log knows (a package whose manifest the log recorded,
#     notices the log recorded);
#   - the same command, run again, succeeds, and the vault ends in the same
#     state as the reference (people, records, datasets, transfer states,
#     destruction state, key version), with a log that verifies.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 path/to/custos path/to/libcustos_killpoint.so" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
killpoint="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/e2e_lib.sh"
python=/usr/bin/python3
command -v "$python" >/dev/null || python=python3

work="$(mktemp -d "${TMPDIR:-/tmp}/custos-crash-e2e.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
unset CUSTOS_VAULT CUSTOS_KEY_FILE CUSTOS_PASSPHRASE CUSTOS_WAIT
export CUSTOS_ACTOR="crash"
today=2026-12-01

fail() { echo "FAIL $*" >&2; exit 1; }

# ---- One vault to start every scenario from.
mkdir base
(
  cd base
  "$custos" sample --rows 600 --seed 31 --today $today --out crm.csv 2>/dev/null
  "$custos" sample --rows 300 --seed 32 --today $today --out more.csv 2>/dev/null
  "$custos" init --vault v.vault --key-file v.key >/dev/null
  "$custos" import crm.csv --vault v.vault --key-file v.key --dataset crm --no-progress >/dev/null
  "$custos" keys new-recipient --out ho-keys >/dev/null
  "$custos" recipient add --vault v.vault --key-file v.key --id ho --name 总公司 \
    --uscc "$(uscc 91110000600037341)" --contact 010-12345678 \
    --age-recipient "$(cat ho-keys/age.pub)" --ssh-key "$(cat ho-keys/ssh_ed25519.pub)" >/dev/null
  write_contract contract.txt
  for t in T1 T2; do
    "$custos" transfer plan --vault v.vault --key-file v.key --id $t --recipient ho \
      --mode head-office --purpose 继续提供账户服务 --method 电子化存储 --fields 姓名,手机号 \
      --processor-name 某公司北京分公司 --processor-contact 010-88888888 --contract contract.txt \
      --approved-by CPO >/dev/null
  done
  # T2 is noticed already, for the package scenario.
  "$custos" transfer notices --vault v.vault --key-file v.key --transfer T2 --channel sms \
    --out t2-sms.csv 2>/dev/null >/dev/null
  rm -f t2-sms.csv
  "$custos" audit verify --vault v.vault --key-file v.key >/dev/null
)
# Destruction is blocked while transfers are open: a vault of its own.
mkdir plain
(
  cd plain
  cp ../base/crm.csv .
  "$custos" init --vault v.vault --key-file v.key >/dev/null
  "$custos" import crm.csv --vault v.vault --key-file v.key --dataset crm --no-progress >/dev/null
)

# The state a scenario's command leaves, without what differs between two
# runs of it (random keys, times, codes).
state() {
  "$python" - "$1" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
q = lambda sql: db.execute(sql).fetchall()
def docs(kind):
    out = {}
    for key, body in q(f"SELECT key, body FROM doc WHERE kind='{kind}' ORDER BY key"):
        d = json.loads(body)
        out[key] = d.get("state")
    return out
print(json.dumps({
    "people": q("SELECT count(*) FROM person")[0][0],
    "records": q("SELECT count(*) FROM record")[0][0],
    "datasets": q("SELECT name, rows, people FROM dataset ORDER BY name"),
    "transfers": docs("transfer"),
    "destructions": sorted(docs("destroy.batch").values()),
    "key_version": int.from_bytes(q("SELECT value FROM meta WHERE key='kek_version'")[0][0], "big"),
    "refs": q("SELECT count(*) FROM person_doc WHERE kind='transfer.ref'")[0][0],
}, sort_keys=True, ensure_ascii=False))
PY
}

# Nothing a killed run left may be unknown to the log: no temporaries, and
# outputs only as the log recorded them.
check_files() {
  local dir="$1" what="$2"
  if ls -a "$dir" | grep -E '\.tmp-|\.folding$' | grep -q .; then
    ls -la "$dir" >&2
    fail "$what: a temporary file was left behind"
  fi
  "$python" - "$dir" "$what" <<'PY'
import hashlib, json, sqlite3, sys, tarfile, os
d, what = sys.argv[1], sys.argv[2]
db = sqlite3.connect(f"file:{d}/v.vault?mode=ro", uri=True)
entries = [json.loads(bytes(r[0])) for r in db.execute("SELECT data FROM audit_entry ORDER BY seq")]
pkg = os.path.join(d, "T2.tar")
if os.path.exists(pkg):
    with tarfile.open(pkg) as t:
        manifest = t.extractfile("manifest.json").read()
    sha = hashlib.sha256(manifest).hexdigest()
    if not any(e["action"] == "transfer.package" and e["objects"].get("manifest_sha256") == sha
               for e in entries):
        sys.exit(f"FAIL {what}: T2.tar exists but the log records no package with its manifest")
notices = os.path.join(d, "T1-sms.csv")
if os.path.exists(notices):
    import csv
    rows = list(csv.DictReader(open(notices, encoding="utf-8")))
    digest = hashlib.sha256(b"".join(hashlib.sha256(r["message"].encode()).digest()
                                     for r in rows)).hexdigest()
    if not any(e["action"] == "transfer.notices" and e["objects"].get("notices_sha256") == digest
               for e in entries):
        sys.exit(f"FAIL {what}: T1-sms.csv exists but the log records no such notices")
PY
}

# scenario NAME BASE KEY -- command args: runs in a copy of BASE; KEY opens
# the vault afterwards.
scenario() {
  local name="$1" base="$2" key="$3"
  shift 4
  rm -rf "ref-$name"
  cp -a "$base" "ref-$name"
  (cd "ref-$name" && KILLPOINT_COUNT="$work/count-$name" LD_PRELOAD="$killpoint" "$@" \
     >/dev/null 2>"$work/ref-$name.err") || { cat "ref-$name.err" >&2; fail "$name: reference run"; }
  local want points killed=0
  want="$(state "ref-$name/v.vault")"
  points="$(cat "count-$name")"
  [ "$points" -gt 0 ] || fail "$name: the killpoint library counted no durable writes"
  for ((n = 1; n <= points; n++)); do
    rm -rf run
    cp -a "$base" run
    local rc=0
    # (The subshell's own stderr is dropped: it reports the kill.)
    (cd run && KILLPOINT_AT=$n LD_PRELOAD="$killpoint" "$@" >/dev/null 2>&1) 2>/dev/null || rc=$?
    if [ "$rc" -ne 137 ]; then
      # The command made fewer durable writes this time (a timing-dependent
      # path): nothing was interrupted, so nothing to check at this point.
      [ "$rc" -eq 0 ] || fail "$name: run to be killed at write $n exited $rc"
      continue
    fi
    killed=$((killed + 1))
    check_files run "$name killed before durable write $n of $points"
    (cd run && "$@" >/dev/null 2>"$work/rerun.err") ||
      { cat rerun.err >&2; fail "$name: the run after a kill before write $n failed"; }
    check_files run "$name re-run after write $n"
    local got
    got="$(state run/v.vault)"
    if [ "$got" != "$want" ]; then
      echo "want: $want" >&2
      echo "got:  $got" >&2
      fail "$name: killed before write $n of $points and run again: another state"
    fi
    "$custos" audit verify --vault run/v.vault --key-file "run/$key" >/dev/null ||
      fail "$name: audit verify after a kill before write $n"
  done
  echo "ok   $name: killed at each of $points durable writes ($killed kills), each re-run ends as the reference"
}

K=(--vault v.vault --key-file v.key)
scenario import base v.key -- "$custos" import more.csv "${K[@]}" --dataset more --no-progress
scenario notices base v.key -- "$custos" transfer notices "${K[@]}" --transfer T1 --channel sms \
  --out T1-sms.csv
scenario package base v.key -- "$custos" transfer package "${K[@]}" --transfer T2 --out T2.tar
scenario rotate base new.key -- "$custos" keys rotate "${K[@]}" --new-key-file new.key
scenario destroy plain v.key -- "$custos" destroy execute "${K[@]}" --approver Boss --supervisor A \
  --supervisor B --today $today --chunk 200
echo "crash_e2e: ok"
