#!/usr/bin/env bash
# End to end: the tamper-evident audit log, driven through the real binary.
#
#   tests/audit_e2e.sh path/to/custos
#
# 1. A vault's whole life (sample, init, import, find, show, clear read with
#    a purpose, a wrong key, forget, key rotation) leaves a log that
#    `custos audit verify` accepts, and whose export and inclusion and
#    consistency proofs the independent verifier (tests/audit_verifier.py,
#    written from the specs alone) accepts.
# 2. Each kind of tampering that someone with only the vault file can do, on
#    a copy of the vault with sqlite3 (and Python to recompute hashes, as a
#    careful forger would), makes `custos audit verify` or `custos audit
#    consistency --old` fail with exit status 7 (data_loss) and a message
#    naming where.
# 3. A log rebuilt with the vault's own key (an insider restoring a backup
#    and redoing the work) verifies on its own, but not against a checkpoint
#    taken earlier: `audit consistency --old` names the break.
# 4. Each kind of tampering with an export, or a proof, fails the independent
#    verifier.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/custos" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
verifier="$here/audit_verifier.py"
testdata="$here/../testdata/merkle"

# A Python 3 with PyNaCl: the Debian one (python3-nacl), whatever PATH says.
. "$here/e2e_lib.sh"
python="$(nacl_python audit_e2e)"
command -v sqlite3 >/dev/null || { echo "audit_e2e: the sqlite3 command is missing" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/custos-audit-e2e.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
export CUSTOS_ACTOR="e2e-officer"
unset CUSTOS_VAULT CUSTOS_KEY_FILE CUSTOS_PASSPHRASE

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
not_ok() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

# expect CODE PATTERN NAME -- command...: the command exits with CODE and its
# output (stdout and stderr) matches the extended regex PATTERN.
expect() {
  local code="$1" pattern="$2" name="$3"
  shift 4
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  if [ "$rc" -ne "$code" ]; then
    not_ok "$name: exit $rc, expected $code"
    printf '%s\n' "$out" | sed 's/^/     | /' | head -20
  elif ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
    not_ok "$name: output does not match /$pattern/"
    printf '%s\n' "$out" | sed 's/^/     | /' | head -20
  else
    ok "$name"
    printf '%s\n' "$out" | grep -E -- "$pattern" | head -1 | cut -c1-220 | sed 's/^/     > /'
  fi
}

# Fails the whole test at once (setup steps that later checks depend on).
must() {
  if ! "$@" >"$work/must.out" 2>&1; then
    echo "audit_e2e: setup step failed: $*" >&2
    cat "$work/must.out" >&2
    exit 1
  fi
}

verify_py() { "$python" "$verifier" "$@"; }
json_get() { "$python" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }

# ----------------------------------------------------------------- helpers for forgers
# What someone with the vault file but not the key can do beyond plain SQL:
# recompute the unkeyed hashes. RFC 9162 hashing, written here again.
cat >forge.py <<'EOF'
import hashlib, sqlite3, sys

def leaf(d): return hashlib.sha256(b"\x00" + d).digest()
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()

def rebuild(db):
    """Recomputes every stored tree node from the entries, as Custos stores them:
    (level, idx) is the complete subtree over leaves [idx << level, (idx+1) << level)."""
    c = sqlite3.connect(db)
    rows = c.execute("SELECT seq, data FROM audit_entry ORDER BY seq").fetchall()
    c.execute("DELETE FROM audit_node")
    level, hashes = 0, [leaf(bytes(d)) for _, d in rows]
    while hashes:
        c.executemany("INSERT INTO audit_node(level, idx, hash) VALUES (?,?,?)",
                      [(level, i, h) for i, h in enumerate(hashes)])
        hashes = [node(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
        level += 1
    c.commit()

def set_seq(data, old, new):
    prefix = b'{"v":2,"seq":%d,' % old
    assert data.startswith(prefix), data[:40]
    return b'{"v":2,"seq":%d,' % new + data[len(prefix):]

def swap(db, a, b):
    """Swaps entries a and b, each renumbered to its new place."""
    c = sqlite3.connect(db)
    da = bytes(c.execute("SELECT data FROM audit_entry WHERE seq=?", (a,)).fetchone()[0])
    db_ = bytes(c.execute("SELECT data FROM audit_entry WHERE seq=?", (b,)).fetchone()[0])
    c.execute("UPDATE audit_entry SET data=? WHERE seq=?", (set_seq(db_, b, a), a))
    c.execute("UPDATE audit_entry SET data=? WHERE seq=?", (set_seq(da, a, b), b))
    c.commit()

def delete(db, n):
    """Deletes entry n and renumbers those after it."""
    c = sqlite3.connect(db)
    rows = c.execute("SELECT seq, data FROM audit_entry WHERE seq>? ORDER BY seq", (n,)).fetchall()
    c.execute("DELETE FROM audit_entry WHERE seq>=?", (n,))
    c.executemany("INSERT INTO audit_entry(seq, data) VALUES (?,?)",
                  [(s - 1, set_seq(bytes(d), s, s - 1)) for s, d in rows])
    c.commit()

op = sys.argv[1]
if op == "rebuild": rebuild(sys.argv[2])
elif op == "swap": swap(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
elif op == "delete": delete(sys.argv[2], int(sys.argv[3]))
else: sys.exit("unknown op " + op)
EOF
forge() { "$python" forge.py "$@"; }

# ----------------------------------------------------------------- 1. a vault's life
echo "== 1. a vault's life, verified by custos and by the independent verifier"
must "$custos" sample --rows 300 --seed 11 --out crm.csv
must "$custos" init --vault v.vault --key-file v.key
must "$custos" import crm.csv --vault v.vault --key-file v.key --dataset crm --no-progress
# The vault right after the import: what an insider could restore later (part 3).
cp v.vault snapshot.vault
cp v.key snapshot.key
id_number=$(sed -n '5p' crm.csv | cut -d, -f4)
mobile=$(sed -n '5p' crm.csv | cut -d, -f5)
other_id=$(sed -n '9p' crm.csv | cut -d, -f4)  # someone who stays
person=$("$custos" find --vault v.vault --key-file v.key --mobile "$mobile" --json | json_get 'd["people"][0]["person"]')
[ -n "$person" ] || { echo "audit_e2e: no person found" >&2; exit 1; }
must "$custos" show --vault v.vault --key-file v.key "$person"
expect 2 "purpose" "a clear read without a purpose is refused" -- \
  "$custos" show --vault v.vault --key-file v.key "$person" --clear
must "$custos" show --vault v.vault --key-file v.key "$person" --clear --purpose "identity check for the handover"
head -c 32 /dev/urandom >wrong.key && chmod 600 wrong.key
cp v.vault before-wrong-key.vault
expect 8 "does not open the vault" "a wrong key is refused (unauthenticated)" -- \
  "$custos" find --vault v.vault --key-file wrong.key --mobile "$mobile"
if cmp -s v.vault before-wrong-key.vault; then ok "the wrong key left the vault file unchanged"; else not_ok "the wrong key changed the vault file"; fi
must "$custos" forget --vault v.vault --key-file v.key "$person"
must "$custos" keys rotate --vault v.vault --key-file v.key --new-key-file v2.key
K=(--key-file v2.key)

expect 0 "Audit log verified: [0-9]+ entries" "custos audit verify accepts the log" -- \
  "$custos" audit verify --vault v.vault "${K[@]}"
must "$custos" audit export --vault v.vault "${K[@]}" --out exp1
expect 0 "^OK: [0-9]+ entries" "the independent verifier accepts the export" -- verify_py export exp1
size1=$(sed -n '2p' exp1/checkpoint)
cp exp1/checkpoint old.cp  # the auditor keeps this checkpoint

# Every action is in the log, and no personal data is.
actions=$("$python" -c 'import json,sys; print(" ".join(sorted({json.loads(l)["action"] for l in open(sys.argv[1])})))' exp1/entries.jsonl)
for a in vault.init import person.find person.read_masked person.read_clear vault.refused person.forget keys.rotate audit.export; do
  case " $actions " in
    *" $a "*) ok "the log records $a" ;;
    *) not_ok "the log has no $a entry (has: $actions)" ;;
  esac
done
if grep -q -F -e "$id_number" -e "$mobile" exp1/entries.jsonl; then
  not_ok "the exported log holds the person's ID number or mobile"
else
  ok "the exported log holds no ID number or mobile"
fi
read_clear_seq=$(grep -n '"action":"person.read_clear"' exp1/entries.jsonl | head -1 | cut -d: -f1)
read_clear_seq=$((read_clear_seq - 1))

# Inclusion proofs for several entries, checked against the signed checkpoint.
for i in 0 1 "$read_clear_seq" $((size1 / 2)) $((size1 - 1)); do
  "$custos" audit prove --vault v.vault "${K[@]}" --index "$i" >"proof-$i.json"
  expect 0 "^OK: entry $i is in the signed tree of $size1 entries" "inclusion proof of entry $i verifies independently" -- \
    verify_py proof "proof-$i.json" exp1/checkpoint exp1/vkey --entries exp1/entries.jsonl
done
expect 2 "no signed checkpoint of size" "a proof against an unsigned size is refused" -- \
  "$custos" audit prove --vault v.vault "${K[@]}" --index 0 --size $((size1 + 5))

# More work, then the log still extends the auditor's checkpoint.
must "$custos" find --vault v.vault "${K[@]}" --id "$other_id"
must "$custos" audit export --vault v.vault "${K[@]}" --out exp2
"$custos" audit consistency --vault v.vault "${K[@]}" --old old.cp --json >consistency.json
expect 0 "^OK: the log of [0-9]+ entries extends the one of $size1" "the consistency proof verifies independently" -- \
  verify_py consistency consistency.json old.cp exp2/checkpoint exp2/vkey
expect 0 "^OK: [0-9]+ published probes" "the independent verifier passes the published vectors" -- \
  verify_py kat "$testdata"

size=$(sqlite3 v.vault "SELECT count(*) FROM audit_entry")
latest=$(sqlite3 v.vault "SELECT max(size) FROM audit_checkpoint")
echo "   (the log has $size entries, the latest checkpoint covers $latest, the auditor holds size $size1)"

# ----------------------------------------------------------------- 2. tampering with the vault file
echo "== 2. tampering with a copy of the vault file"
fresh() { rm -f "$1" "$1-wal" "$1-shm"; cp v.vault "$1"; }
verify_fails() {  # verify_fails DB PATTERN NAME
  expect 7 "$2" "$3" -- "$custos" audit verify --vault "$1" "${K[@]}"
}
consistency_fails() {  # consistency_fails DB PATTERN NAME
  expect 7 "$2" "$3" -- "$custos" audit consistency --vault "$1" "${K[@]}" --old old.cp
}
n=$read_clear_seq

fresh t.vault
sqlite3 t.vault "UPDATE audit_entry SET data=CAST(replace(CAST(data AS TEXT), '\"person.read_clear\"', '\"person.read_masked\"') AS BLOB) WHERE seq=$n"
verify_fails t.vault "audit entry $n does not match its stored leaf hash: it was edited" \
  "an edited entry is named"

fresh t.vault
sqlite3 t.vault "UPDATE audit_entry SET data=CAST(replace(CAST(data AS TEXT), '\"person.read_clear\"', '\"person.read_masked\"') AS BLOB) WHERE seq=$n"
forge rebuild t.vault
verify_fails t.vault "do not match the signed checkpoint at size $((n + 1)): the first bad entry is among entries [0-9]+ to $n" \
  "an edited entry with its tree recomputed is named by the checkpoint that covers it"

fresh t.vault
sqlite3 t.vault "DELETE FROM audit_entry WHERE seq=$n"
verify_fails t.vault "audit entry at position $n is missing" "a deleted entry is named"

fresh t.vault
forge delete t.vault "$n"
forge rebuild t.vault
verify_fails t.vault "checkpoint at size $((n + 1))|entries [0-9]+ to $n" \
  "a deleted entry, the rest renumbered and the tree recomputed, is named"

fresh t.vault
sqlite3 t.vault "UPDATE audit_entry SET seq=-1 WHERE seq=$n; UPDATE audit_entry SET seq=$n WHERE seq=$((n + 1)); UPDATE audit_entry SET seq=$((n + 1)) WHERE seq=-1;"
verify_fails t.vault "audit entry $n says it is entry $((n + 1)): entries were reordered" \
  "two swapped entries are named"

fresh t.vault
forge swap t.vault 1 2
forge rebuild t.vault
verify_fails t.vault "signed checkpoint at size 2: the first bad entry is among entries 1 to 1|checkpoint at size [0-9]+: the first bad entry is among entries [0-9]+ to [12]" \
  "two swapped entries, renumbered and the tree recomputed, are named"

cut=$((size - 3))
fresh t.vault
sqlite3 t.vault "DELETE FROM audit_entry WHERE seq>=$cut"
verify_fails t.vault "has $cut entries but a signed checkpoint covers [0-9]+: entries were removed from the end" \
  "a truncated tail is named"
consistency_fails t.vault "removed from the end|now shorter" \
  "a truncated tail fails consistency with the auditor's checkpoint"

# The careful version: cut back to an earlier checkpoint, dropping the later
# checkpoints too. The file alone now looks like an older vault; only a
# checkpoint taken before (the auditor's) shows the history was cut.
cut=$((size1 - 4))
cut_to=$(sqlite3 v.vault "SELECT max(size) FROM audit_checkpoint WHERE size<=$cut")
fresh t.vault
sqlite3 t.vault "DELETE FROM audit_entry WHERE seq>=$cut_to; DELETE FROM audit_checkpoint WHERE size>$cut_to; DELETE FROM audit_node WHERE ((idx+1)<<level)>$cut_to;"
consistency_fails t.vault "does NOT extend the checkpoint in old.cp \(size $size1\): the log is now shorter \($cut_to entries\)" \
  "a tail cut back to an earlier checkpoint fails consistency with the auditor's checkpoint"

other_note() {  # the latest checkpoint note of another vault
  sqlite3 w.vault "SELECT note FROM audit_checkpoint ORDER BY size DESC LIMIT 1"
}
must "$custos" init --vault w.vault --key-file w.key
must "$custos" import crm.csv --vault w.vault --key-file w.key --dataset crm --no-progress
fresh t.vault
note=$(other_note)
sqlite3 t.vault "UPDATE audit_checkpoint SET note='$note
' WHERE size=$latest"
verify_fails t.vault "checkpoint at size $latest: the note carries no signature by custos.vault/" \
  "a checkpoint replaced by another vault's is named"

fresh t.vault
sqlite3 t.vault "UPDATE audit_checkpoint SET note=(SELECT note FROM audit_checkpoint WHERE size=$size1) WHERE size=$latest"
verify_fails t.vault "checkpoint at size $latest states size $size1" \
  "a checkpoint replaced by an older one of the same vault is named"

fresh t.vault
sqlite3 t.vault "DELETE FROM audit_checkpoint WHERE size>=$size1"
verify_fails t.vault "audit entries [0-9]+ to $((size - 1)) are not covered by any signed checkpoint" \
  "entries whose signed checkpoints were dropped are named"

# The smallest complete subtree at the current size: the stored node that
# appends and proofs of the newest entries build on.
lvl=0
while [ $(((size >> lvl) & 1)) -eq 0 ]; do lvl=$((lvl + 1)); done
first=$((((size >> lvl) - 1) << lvl))
fresh t.vault
sqlite3 t.vault "UPDATE audit_node SET hash=zeroblob(32) WHERE level=$lvl AND idx=$(((size >> lvl) - 1))"
verify_fails t.vault "stored audit tree node \(level $lvl, entries $first to $((size - 1))\)" \
  "a damaged stored tree node is named"
expect 7 "does not match the signed checkpoint" "a proof from a damaged stored tree is refused" -- \
  "$custos" audit prove --vault t.vault "${K[@]}" --index $((size - 1))

# Rebuilt from scratch without the key: the same entries in another order,
# renumbered, the whole tree recomputed, and no signature to show for it.
fresh t.vault
forge swap t.vault 1 2
forge rebuild t.vault
sqlite3 t.vault "DELETE FROM audit_checkpoint"
verify_fails t.vault "audit entries 0 to $((size - 1)) are not covered by any signed checkpoint" \
  "a log rebuilt without the key (same entries, another order, no signatures) is named"
expect 6 "no checkpoint" "consistency with the auditor's checkpoint is refused for it" -- \
  "$custos" audit consistency --vault t.vault "${K[@]}" --old old.cp

# ----------------------------------------------------------------- 3. rebuilt with the key
echo "== 3. a log rebuilt with the vault's own key: the same work redone on a restored backup"
# The insider restores the snapshot taken after the import and redoes the
# work (without the clear read they want to hide), later: the same kinds of
# entries, new times, a different history, all properly signed.
cp snapshot.vault f.vault
cp snapshot.key f.key
sleep 1
must "$custos" find --vault f.vault --key-file f.key --mobile "$mobile"
must "$custos" show --vault f.vault --key-file f.key "$person"
must "$custos" forget --vault f.vault --key-file f.key "$person"
must "$custos" keys rotate --vault f.vault --key-file f.key --new-key-file f2.key
while [ "$(sqlite3 f.vault 'SELECT count(*) FROM audit_entry')" -le "$size1" ]; do
  must "$custos" find --vault f.vault --key-file f2.key --id "$other_id"
done
expect 0 "Audit log verified" "the rebuilt log verifies on its own (it is genuinely signed)" -- \
  "$custos" audit verify --vault f.vault --key-file f2.key
expect 7 "does NOT extend the checkpoint in old.cp \(size $size1\): consistency proof does not reproduce the (old|new) root" \
  "but it does not extend the auditor's checkpoint: audit consistency names the break" -- \
  "$custos" audit consistency --vault f.vault --key-file f2.key --old old.cp
must "$custos" audit export --vault f.vault --key-file f2.key --out expf
expect 0 "^OK" "its export verifies on its own" -- verify_py export expf
if [ "$(sed -n 3p expf/checkpoint)" != "$(sed -n 3p old.cp)" ]; then
  prefix_root=$("$python" - expf/entries.jsonl "$size1" <<'EOF'
import hashlib, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[: int(sys.argv[2])]
level = [hashlib.sha256(b"\x00" + l).digest() for l in lines]
while len(level) > 1:
    nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
    level = nxt + ([level[-1]] if len(level) % 2 else [])
import base64; print(base64.b64encode(level[0]).decode())
EOF
)
  if [ "$prefix_root" != "$(sed -n 3p old.cp)" ]; then
    ok "its first $size1 entries do not have the root the auditor holds"
  else
    not_ok "the rebuilt log's prefix has the auditor's root"
  fi
fi

# A new vault made from the same inputs: another key, so the auditor's
# checkpoint does not even verify against it.
expect 7 "old.cp: the note carries no signature by custos.vault/" \
  "a vault recreated from scratch cannot verify the auditor's checkpoint" -- \
  "$custos" audit consistency --vault w.vault --key-file w.key --old old.cp

# ----------------------------------------------------------------- 4. tampering with an export
echo "== 4. tampering with an export or a proof: the independent verifier fails"
tampered() { rm -rf t; cp -r exp1 t; }
py_fails() {  # py_fails PATTERN NAME -- args
  local pattern="$1" name="$2"
  shift 3
  expect 1 "$pattern" "$name" -- verify_py "$@"
}
tampered
sed -i '3s/"person.find"/"person.FIND"/; 3s/"import"/"imp0rt"/' t/entries.jsonl
py_fails "the Merkle root of the [0-9]+ entries .* an entry was changed" "an edited line" -- export t
tampered
sed -i '2d' t/entries.jsonl
py_fails "entries.jsonl has $((size1 - 1)) entries but the signed checkpoint covers $size1" "a deleted line" -- export t
tampered
sed -i '2{h;d};3{G}' t/entries.jsonl
py_fails "line 2 \(entry 1\): seq is 2, expected 1" "two swapped lines" -- export t
tampered
head -c -20 exp1/entries.jsonl >t/entries.jsonl
py_fails "does not end with a newline" "a truncated tail" -- export t
tampered
head -n -2 exp1/entries.jsonl >t/entries.jsonl
py_fails "has $((size1 - 2)) entries but the signed checkpoint covers $size1" "a tail cut at a line boundary" -- export t
tampered
must "$custos" audit export --vault w.vault --key-file w.key --out expw
cp expw/checkpoint t/checkpoint
py_fails "no signature by custos.vault/" "a checkpoint replaced by another vault's" -- export t
tampered
sed -i "2s/.*/$((size1 + 1))/" t/checkpoint
py_fails "signature by custos.vault/[0-9a-f]+ does not verify" "a checkpoint whose size was edited" -- export t
tampered
cp expw/vkey t/vkey
py_fails "no signature by custos.vault/" "the verifier key of another vault" -- export t
tampered
cp exp2/checkpoint t/checkpoint
py_fails "signed checkpoint covers $(sed -n 2p exp2/checkpoint)" "a newer checkpoint over the older entries" -- export t
i=$read_clear_seq
"$python" -c 'import json,sys; p=json.load(open(sys.argv[1])); h=p["path"][0]; p["path"][0]=("0" if h[0]!="0" else "1")+h[1:]; json.dump(p,open(sys.argv[2],"w"))' "proof-$i.json" bad-proof.json
py_fails "inclusion proof does not lead to the root" "a proof with a flipped hash" -- proof bad-proof.json exp1/checkpoint exp1/vkey
"$python" -c 'import json,sys; p=json.load(open(sys.argv[1])); p["index"]+=1; json.dump(p,open(sys.argv[2],"w"))' "proof-$i.json" bad-proof.json
py_fails "inclusion proof does not lead to the root|not the proven leaf" "a proof for another index" -- proof bad-proof.json exp1/checkpoint exp1/vkey --entries exp1/entries.jsonl
py_fails "the proof is for a tree of $size1 entries, the signed checkpoint for" "a proof against another checkpoint" -- proof "proof-$i.json" exp2/checkpoint exp2/vkey
"$python" -c 'import json,sys; p=json.load(open(sys.argv[1])); p["path"]=p["path"][1:]; json.dump(p,open(sys.argv[2],"w"))' consistency.json bad-consistency.json
py_fails "consistency proof" "a consistency proof with a hash removed" -- consistency bad-consistency.json old.cp exp2/checkpoint exp2/vkey

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
