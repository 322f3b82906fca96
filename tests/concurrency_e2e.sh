#!/usr/bin/env bash
# End to end: several processes on one vault at once, as several operators
# in several terminals would run them.
#
#   tests/concurrency_e2e.sh path/to/custos [SECONDS]
#
# For SECONDS (default 60, or STRESS_SECONDS), loops in parallel processes:
# imports, clear reads (each with a purpose of its own), masked reads and
# finds, forgets, whole transfers (plan, notices, responses, package) and
# audit exports and verifications. Then checks:
#   - every command exited 0, or 9 (unavailable, after waiting for another
#     writer); readers (audit verify, transfer status) always exited 0;
#   - every error line reads `custos: error: MESSAGE [code]`;
#   - `custos audit verify` passes, and so does the independent verifier on
#     an export;
#   - every clear read and every forget that succeeded is in the log exactly
#     once, and none that failed is;
#   - no temporary file is left beside the outputs.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 path/to/custos [SECONDS]" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
seconds="${2:-${STRESS_SECONDS:-60}}"
here="$(cd "$(dirname "$0")" && pwd)"
verifier="$here/audit_verifier.py"
. "$here/e2e_lib.sh"
python="$(nacl_python concurrency_e2e)"

work="$(mktemp -d "${TMPDIR:-/tmp}/custos-concurrency-e2e.XXXXXX")"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
unset CUSTOS_VAULT CUSTOS_KEY_FILE CUSTOS_PASSPHRASE
export CUSTOS_VAULT="$work/v.vault" CUSTOS_KEY_FILE="$work/v.key" CUSTOS_ACTOR="stress"
# Waits short enough that some commands do give up (exit 9), long enough
# that most go through.
export CUSTOS_WAIT=10

fail() { echo "FAIL $*" >&2; exit 1; }

# ---- Setup: a vault with two datasets; readers read people of the first,
# forgets take people of the second only.
"$custos" sample --rows 2000 --seed 21 --out keep.csv 2>/dev/null
"$custos" sample --rows 400 --seed 22 --out gone.csv 2>/dev/null
"$custos" init >/dev/null
"$custos" import keep.csv --dataset keep --no-progress >/dev/null
"$custos" import gone.csv --dataset gone --no-progress >/dev/null
"$python" - <<'PY'
import csv
def col(path, name):
    rows = list(csv.reader(open(path, encoding="utf-8-sig")))
    i = rows[0].index(name)
    return [r[i] for r in rows[1:]]
keep = col("keep.csv", "身份证号")
gone = set(col("gone.csv", "身份证号"))
open("read-ids.txt", "w").write("\n".join([x for x in keep[:200] if x not in gone]) + "\n")
open("gone-ids.txt", "w").write("\n".join(sorted(gone)) + "\n")
PY
"$custos" keys new-recipient --out ho-keys >/dev/null
"$custos" recipient add --id ho --name 总公司 --uscc "$(uscc 91110000600037341)" \
  --contact 010-12345678 --age-recipient "$(cat ho-keys/age.pub)" \
  --ssh-key "$(cat ho-keys/ssh_ed25519.pub)" >/dev/null
write_contract contract.txt

deadline=$(( $(date +%s) + seconds ))
mkdir -p logs out
# run NAME CMD...: runs one command, appends "rc<TAB>NAME<TAB>args" to
# logs/NAME.rc and its stderr to logs/NAME.err.
run() {
  local name="$1"
  shift
  local rc=0
  "$@" >/dev/null 2>>"logs/$name.err" || rc=$?
  printf '%s\t%s\n' "$rc" "$*" >>"logs/$name.rc"
  return "$rc"
}

importer() {
  local n=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    n=$((n + 1))
    run import "$custos" import keep.csv --dataset "imp-$n" --no-progress || true
  done
}

clear_reader() {
  local who="$1" n=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    while read -r id; do
      [ "$(date +%s)" -lt "$deadline" ] || break
      n=$((n + 1))
      run "clear-$who" "$custos" show --clear --purpose "stress-$who-$n" --id "$id" || true
    done < read-ids.txt
  done
}

masked_reader() {
  while [ "$(date +%s)" -lt "$deadline" ]; do
    while read -r id; do
      [ "$(date +%s)" -lt "$deadline" ] || break
      run masked "$custos" show --id "$id" || true
      run find "$custos" find --id "$id" || true
    done < read-ids.txt
  done
}

forgetter() {
  while read -r id; do
    [ "$(date +%s)" -lt "$deadline" ] || break
    run forget "$custos" forget --id "$id" --json || true
    sleep 0.2
  done < gone-ids.txt
}

transferrer() {
  local n=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    n=$((n + 1))
    local t="T$n"
    # Each step only after the one before succeeded (one that gave up
    # waiting ends this transfer; the next one starts afresh).
    run transfer "$custos" transfer plan --id "$t" --recipient ho --mode head-office \
      --purpose 继续提供账户服务 --method 电子化存储 --fields 姓名,手机号 --dataset keep \
      --processor-name 某公司北京分公司 --processor-contact 010-88888888 --contract contract.txt \
      --approved-by CPO || continue
    run transfer "$custos" transfer notices --transfer "$t" --channel sms --out "out/$t-sms.csv" ||
      continue
    if [ -f "out/$t-sms.csv" ]; then
      "$python" - "out/$t-sms.csv" "out/$t-resp.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
with open(sys.argv[2], "w") as f:
    f.write("ref,response,time,evidence\n")
    for r in rows[:50]:
        f.write(f"{r['ref']},consent,2026-12-01T10:00:00+08:00,sms reply\n")
PY
      run transfer "$custos" transfer responses --transfer "$t" --file "out/$t-resp.csv" || continue
    fi
    run transfer "$custos" transfer package --transfer "$t" --out "out/$t.tar" || true
    run status "$custos" transfer status --transfer "$t" --json || true
  done
}

auditor() {
  local n=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    n=$((n + 1))
    run export "$custos" audit export --out "out/export-$n" || true
    run verify "$custos" audit verify || true
    rm -rf "out/export-$n"
  done
}

echo "concurrency_e2e: ${seconds}s of imports, clear and masked reads, finds, forgets, transfers, exports"
importer &
clear_reader a &
clear_reader b &
masked_reader &
forgetter &
transferrer &
auditor &
wait

# ---- Checks
total=$(cat logs/*.rc | wc -l)
bad=$(awk -F'\t' '$1 != 0 && $1 != 9' logs/*.rc | wc -l)
busy=$(awk -F'\t' '$1 == 9' logs/*.rc | wc -l)
echo "concurrency_e2e: $total commands, $busy gave up waiting (unavailable)"
for f in logs/*.rc; do
  printf '  %-10s %5d run, %4d ok\n' "$(basename "$f" .rc)" "$(wc -l <"$f")" \
    "$(awk -F'\t' '$1 == 0' "$f" | wc -l)"
done
if [ "$bad" -ne 0 ]; then
  awk -F'\t' '$1 != 0 && $1 != 9' logs/*.rc | head -20 >&2
  cat logs/*.err | grep -v '\[unavailable\]' | head -20 >&2
  fail "$bad commands failed with something other than unavailable"
fi
for reader in verify status; do
  if [ -f "logs/$reader.rc" ] && awk -F'\t' '$1 != 0' "logs/$reader.rc" | grep -q .; then
    head -5 "logs/$reader.err" >&2
    fail "a read-only command ($reader) failed while writers were active"
  fi
done
# Every line a command prints on stderr is an error line, a warning, or an
# indented continuation of one; an error's last line ends with its code.
if cat logs/*.err | grep -Ev '^(custos: (error|warning): |  )' | grep -q .; then
  cat logs/*.err | grep -Ev '^(custos: (error|warning): |  )' | head >&2
  fail "a line on stderr is neither 'custos: error: MESSAGE [code]' nor a warning"
fi
if cat logs/*.err | grep '^custos: error: ' | grep -Ev ' \[[a-z_]+\]$' | grep -q .; then
  cat logs/*.err | grep '^custos: error: ' | grep -Ev ' \[[a-z_]+\]$' | head >&2
  fail "an error line does not end with its [code]"
fi
for kind in import clear-a clear-b forget transfer; do
  n=$(awk -F'\t' '$1 == 0' "logs/$kind.rc" 2>/dev/null | wc -l)
  [ "$n" -gt 0 ] || fail "no $kind command succeeded in ${seconds}s"
done

"$custos" audit verify >verify.txt || { cat verify.txt >&2; fail "audit verify after the run"; }
"$custos" audit export --out final >/dev/null
"$python" "$verifier" export final >indep.txt || { cat indep.txt >&2; fail "independent verifier"; }
"$custos" audit log --json >log.json

"$python" - "$work" <<'PY'
import collections, json, os, sys
work = sys.argv[1]
log = json.load(open(os.path.join(work, "log.json")))
clear = collections.Counter(e["purpose"] for e in log
                            if e["action"] == "person.read_clear" and e["result"] == "ok")
forgets = collections.Counter(e["objects"]["person"] for e in log if e["action"] == "person.forget")
problems = []
def runs(name):
    path = os.path.join(work, "logs", name + ".rc")
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path, encoding="utf-8"):
        rc, args = line.rstrip("\n").split("\t", 1)
        out.append((int(rc), args.split(" ")))
    return out
for who in ("a", "b"):
    for rc, args in runs("clear-" + who):
        purpose = args[args.index("--purpose") + 1]
        n = clear.get(purpose, 0)
        if rc == 0 and n != 1:
            problems.append(f"clear read '{purpose}' succeeded but is in the log {n} times")
        if rc != 0 and n != 0:
            problems.append(f"clear read '{purpose}' failed ({rc}) but is in the log")
# forget --json prints the person id; the run log has the ID number only,
# so compare counts: every forget that succeeded added one entry.
ok_forgets = sum(1 for rc, _ in runs("forget") if rc == 0)
if sum(forgets.values()) != ok_forgets:
    problems.append(f"{ok_forgets} forgets succeeded, the log has {sum(forgets.values())}")
if any(n != 1 for n in forgets.values()):
    problems.append("a person's forget is in the log more than once")
leftovers = [f for f in os.listdir(os.path.join(work, "out")) if ".tmp-" in f]
if leftovers:
    problems.append("temporary files left: " + ", ".join(leftovers))
print(f"concurrency_e2e: {sum(clear.values())} clear reads and {sum(forgets.values())} forgets "
      f"in a log of {len(log)} entries")
if problems:
    for p in problems[:20]:
        print("FAIL " + p, file=sys.stderr)
    sys.exit(1)
PY
echo "concurrency_e2e: ok"
