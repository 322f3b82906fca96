#!/usr/bin/env python3
"""An independent verifier of Custos audit logs.

Written from the specifications only, without Custos's code:
  - RFC 9162 section 2.1 (Merkle tree hash, inclusion and consistency proofs),
  - C2SP signed-note (https://c2sp.org/signed-note) and tlog-checkpoint
    (https://c2sp.org/tlog-checkpoint),
  - docs/formats/audit-entry.md and docs/formats/checkpoint.md.

Usage:
  audit_verifier.py export DIR
      DIR holds `custos audit export` output: vkey, checkpoint, entries.jsonl.
      Checks the verifier key, the checkpoint's signature, that the checkpoint
      covers exactly the lines of entries.jsonl, each entry's form and seq,
      and that the recomputed Merkle root is the signed one.
  audit_verifier.py proof PROOF.json CHECKPOINT VKEY [--entries FILE]
      PROOF.json is `custos audit prove` output. Checks the checkpoint's
      signature, that the proof is for the signed size and root, and the RFC
      9162 inclusion proof; with --entries, also that the proven leaf is that
      line of an exported entries.jsonl.
  audit_verifier.py consistency PROOF.json OLD_CHECKPOINT NEW_CHECKPOINT VKEY
      PROOF.json is `custos audit consistency --json` output. Checks both
      checkpoints' signatures and the RFC 9162 consistency proof between them.
  audit_verifier.py kat TESTDATA_MERKLE_DIR
      Runs this verifier's own algorithms over the published known-answer
      vectors (testdata/merkle/*.json).

Exit status 0 with "OK: ..." on standard output; 1 with "FAILED: ..." on
standard error naming what failed; 2 for usage errors.

Needs Python 3 and PyNaCl (Debian: python3-nacl) for Ed25519.
"""

import base64
import binascii
import hashlib
import json
import os
import re
import sys

try:
    import nacl.exceptions
    import nacl.signing
except ImportError:  # pragma: no cover
    sys.stderr.write("audit_verifier: PyNaCl is missing (Debian: apt-get install python3-nacl)\n")
    sys.exit(2)


class VerifyError(Exception):
    """A check failed; the message says which and where."""


# --------------------------------------------------------------------------
# RFC 9162 section 2.1

def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaf_hashes):
    """MTH over a list of leaf hashes (2.1.1), bottom-up: for n leaves, the
    largest power of two k < n splits the list, which is what pairing
    neighbours level by level and carrying an odd last node up yields."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    level = list(leaf_hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 2.1.3.2. Raises VerifyError."""
    if index >= size:
        raise VerifyError(f"leaf index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise VerifyError("inclusion proof has more hashes than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerifyError("inclusion proof has fewer hashes than the tree is deep")
    if r != root:
        raise VerifyError("inclusion proof does not lead to the root")


def verify_consistency(first, second, first_hash, second_hash, path):
    """RFC 9162 2.1.4.2, with the trivial cases of equal sizes and of the
    empty first tree. Raises VerifyError."""
    if first > second:
        raise VerifyError(f"old size {first} is larger than new size {second}")
    if first == second:
        if path:
            raise VerifyError("proof between equal sizes must be empty")
        if first_hash != second_hash:
            raise VerifyError("equal sizes but different roots")
        return
    if first == 0:
        if path:
            raise VerifyError("proof from the empty tree must be empty")
        return
    if not path:
        raise VerifyError("consistency proof is empty")
    path = list(path)
    if first & (first - 1) == 0:  # an exact power of two
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerifyError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerifyError("consistency proof is too short")
    if fr != first_hash:
        raise VerifyError("consistency proof does not reproduce the old root")
    if sr != second_hash:
        raise VerifyError("consistency proof does not reproduce the new root")


# --------------------------------------------------------------------------
# C2SP signed-note, Ed25519 (signature type 0x01)

EM_DASH = "\u2014 "
ALG_ED25519 = 0x01


def b64decode_strict(text, what):
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) or len(text) % 4:
        raise VerifyError(f"{what} is not standard padded base64")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as e:
        raise VerifyError(f"{what} is not base64: {e}")


def valid_key_name(name):
    return bool(name) and not any(c.isspace() or c == "+" for c in name) and \
        all(ord(c) > 0x20 for c in name)


def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


class VerifierKey:
    def __init__(self, name, hash4, public_key):
        self.name, self.hash, self.public_key = name, hash4, public_key


def parse_vkey(text):
    """<name>+<hash as 8 hex digits>+<base64(0x01 || public key)>"""
    if text.endswith("\n"):
        text = text[:-1]
    parts = text.split("+", 2)  # the base64 key may itself hold '+'
    if len(parts) != 3:
        raise VerifyError("vkey: expected <name>+<hash>+<key>")
    name, hash_hex, key_b64 = parts
    if not valid_key_name(name):
        raise VerifyError("vkey: invalid key name")
    if not re.fullmatch(r"[0-9a-f]{8}", hash_hex):
        raise VerifyError("vkey: key hash must be 8 lower-case hex digits")
    blob = b64decode_strict(key_b64, "vkey: key")
    if len(blob) != 33 or blob[0] != ALG_ED25519:
        raise VerifyError("vkey: not an Ed25519 key (0x01 followed by 32 bytes)")
    public_key = blob[1:]
    if key_hash(name, public_key).hex() != hash_hex:
        raise VerifyError("vkey: key hash does not match SHA-256(name || \\n || 0x01 || key)")
    return VerifierKey(name, bytes.fromhex(hash_hex), public_key)


def open_note(note: bytes, key: VerifierKey, where: str) -> str:
    """Verifies a signed note against one key; returns the signed text."""
    try:
        text = note.decode("utf-8")
    except UnicodeDecodeError:
        raise VerifyError(f"{where}: the note is not UTF-8")
    split = text.rfind("\n\n")
    if split < 0:
        raise VerifyError(f"{where}: no blank line before the signatures")
    body, sigs = text[:split + 1], text[split + 2:]
    if any(ord(c) < 0x20 and c != "\n" for c in body):
        raise VerifyError(f"{where}: control character in the note text")
    if not sigs.endswith("\n"):
        raise VerifyError(f"{where}: the signature block does not end with a newline")
    found = 0
    for line in sigs[:-1].split("\n"):
        if not line.startswith(EM_DASH):
            raise VerifyError(f"{where}: signature line does not start with an em dash: {line!r}")
        fields = line[len(EM_DASH):].split(" ")
        if len(fields) != 2 or not valid_key_name(fields[0]):
            raise VerifyError(f"{where}: malformed signature line {line!r}")
        name, sig_b64 = fields
        blob = b64decode_strict(sig_b64, f"{where}: signature")
        if len(blob) < 5:
            raise VerifyError(f"{where}: signature too short")
        if name != key.name or blob[:4] != key.hash:
            continue  # another key's signature: ignored
        if len(blob) != 4 + 64:
            raise VerifyError(f"{where}: Ed25519 signature of the wrong length")
        try:
            nacl.signing.VerifyKey(key.public_key).verify(body.encode("utf-8"), blob[4:])
        except nacl.exceptions.BadSignatureError:
            raise VerifyError(f"{where}: the signature by {key.name} does not verify")
        found += 1
    if not found:
        raise VerifyError(f"{where}: no signature by {key.name}+{key.hash.hex()}")
    return body


class Checkpoint:
    def __init__(self, origin, size, root):
        self.origin, self.size, self.root = origin, size, root


def parse_checkpoint(body: str, where: str) -> Checkpoint:
    """C2SP tlog-checkpoint: origin, size, base64 root, each ending in \\n.
    checkpoint.md: Custos writes no extension lines."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise VerifyError(f"{where}: expected origin, size and root lines")
    origin, size_text, root_b64 = lines[0], lines[1], lines[2]
    if lines[3:] != [""]:
        raise VerifyError(f"{where}: unexpected extension lines (checkpoint.md: none in version 1)")
    if not origin:
        raise VerifyError(f"{where}: empty origin")
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text) or int(size_text) >= 1 << 64:
        raise VerifyError(f"{where}: tree size must be decimal without leading zeros")
    root = b64decode_strict(root_b64, f"{where}: root hash")
    if len(root) != 32:
        raise VerifyError(f"{where}: root hash is not 32 bytes")
    return Checkpoint(origin, int(size_text), root)


ORIGIN_RE = re.compile(r"custos\.vault/[0-9a-f]{32}")


def read_signed_checkpoint(path, key):
    with open(path, "rb") as f:
        note = f.read()
    c = parse_checkpoint(open_note(note, key, path), path)
    if c.origin != key.name:
        raise VerifyError(f"{path}: checkpoint origin {c.origin} is not the key name {key.name}")
    if not ORIGIN_RE.fullmatch(c.origin):
        raise VerifyError(f"{path}: origin {c.origin} is not custos.vault/<32 hex digits>")
    return c


def read_vkey(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise VerifyError(f"{path}: not ASCII")
    if text.count("\n") > 1 or (text.count("\n") == 1 and not text.endswith("\n")):
        raise VerifyError(f"{path}: expected one line")
    try:
        return parse_vkey(text)
    except VerifyError as e:
        raise VerifyError(f"{path}: {e}")


# --------------------------------------------------------------------------
# docs/formats/audit-entry.md

# Version 1, and version 2 which adds "via" (how the actor authenticated).
MEMBERS = {
    1: ["v", "seq", "time", "actor", "action", "purpose", "objects", "result"],
    2: ["v", "seq", "time", "actor", "via", "action", "purpose", "objects", "result"],
}
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _pairs_no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise VerifyError("duplicate member")
    return pairs  # a list keeps the order for the caller


def check_entry(line: bytes, i: int):
    where = f"entries.jsonl line {i + 1} (entry {i})"
    try:
        text = line.decode("utf-8")
        pairs = json.loads(text, object_pairs_hook=_pairs_no_duplicates)
    except (UnicodeDecodeError, ValueError, VerifyError) as e:
        raise VerifyError(f"{where}: not a JSON object: {e}")
    if not isinstance(pairs, list):
        raise VerifyError(f"{where}: not a JSON object")
    names = [k for k, _ in pairs]
    version = pairs[0][1] if pairs and pairs[0][0] == "v" else None
    if type(version) is not int or version not in MEMBERS:
        raise VerifyError(f"{where}: unknown format version {version!r}")
    if names != MEMBERS[version]:
        raise VerifyError(f"{where}: members are {names}, expected exactly "
                          f"{MEMBERS[version]} in order")
    e = dict(pairs)
    if type(e["seq"]) is not int or e["seq"] != i:
        raise VerifyError(f"{where}: seq is {e['seq']!r}, expected {i}: "
                          "entries were removed, inserted or reordered")
    for k in ("time", "actor", "action", "purpose", "result") + (("via",) if version == 2 else ()):
        if not isinstance(e[k], str):
            raise VerifyError(f"{where}: {k} is not a string")
    if not TIME_RE.fullmatch(e["time"]):
        raise VerifyError(f"{where}: time {e['time']!r} is not RFC 3339 UTC to the second")
    if not isinstance(e["objects"], list):  # object_pairs_hook turned objects into lists
        raise VerifyError(f"{where}: objects is not an object")
    if e["result"] not in ("ok", "refused", "failed"):
        raise VerifyError(f"{where}: result {e['result']!r} is not ok, refused or failed")


# --------------------------------------------------------------------------
# commands

def cmd_export(d):
    key = read_vkey(os.path.join(d, "vkey"))
    cp = read_signed_checkpoint(os.path.join(d, "checkpoint"), key)
    with open(os.path.join(d, "entries.jsonl"), "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        raise VerifyError("entries.jsonl does not end with a newline: its tail was cut")
    lines = data.split(b"\n")[:-1] if data else []
    if len(lines) != cp.size:
        raise VerifyError(f"entries.jsonl has {len(lines)} entries but the signed checkpoint "
                          f"covers {cp.size}")
    hashes = []
    for i, line in enumerate(lines):
        check_entry(line, i)
        hashes.append(leaf_hash(line))
    root = merkle_root(hashes)
    if root != cp.root:
        raise VerifyError(f"the Merkle root of the {len(lines)} entries is {root.hex()}, but the "
                          f"signed checkpoint says {cp.root.hex()}: an entry was changed")
    return f"{cp.size} entries, signed by {key.name}, root {root.hex()}"


def _hex32(value, what):
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise VerifyError(f"{what} is not 32 bytes of lower-case hex")
    return bytes.fromhex(value)


def _uint(value, what):
    if type(value) is not int or value < 0:
        raise VerifyError(f"{what} is not a non-negative integer")
    return value


def cmd_proof(proof_path, checkpoint_path, vkey_path, entries_path=None):
    key = read_vkey(vkey_path)
    cp = read_signed_checkpoint(checkpoint_path, key)
    with open(proof_path, "rb") as f:
        try:
            p = json.loads(f.read().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise VerifyError(f"{proof_path}: not JSON: {e}")
    if not isinstance(p, dict):
        raise VerifyError(f"{proof_path}: not a JSON object")
    index = _uint(p.get("index"), "index")
    size = _uint(p.get("size"), "size")
    leaf = _hex32(p.get("leaf_hash"), "leaf_hash")
    root = _hex32(p.get("root"), "root")
    if not isinstance(p.get("path"), list):
        raise VerifyError("path is not a list")
    path = [_hex32(h, f"path[{i}]") for i, h in enumerate(p["path"])]
    if size != cp.size:
        raise VerifyError(f"the proof is for a tree of {size} entries, the signed checkpoint "
                          f"for {cp.size}")
    if root != cp.root:
        raise VerifyError("the proof's root is not the signed checkpoint's root")
    verify_inclusion(index, size, leaf, path, cp.root)
    if entries_path:
        with open(entries_path, "rb") as f:
            lines = f.read().split(b"\n")
        if index >= len(lines) - 1:
            raise VerifyError(f"{entries_path} has no entry {index}")
        check_entry(lines[index], index)
        if leaf_hash(lines[index]) != leaf:
            raise VerifyError(f"entry {index} of {entries_path} is not the proven leaf")
    return f"entry {index} is in the signed tree of {size} entries ({len(path)} hashes)"


def cmd_consistency(proof_path, old_path, new_path, vkey_path):
    key = read_vkey(vkey_path)
    old = read_signed_checkpoint(old_path, key)
    new = read_signed_checkpoint(new_path, key)
    with open(proof_path, "rb") as f:
        try:
            p = json.loads(f.read().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise VerifyError(f"{proof_path}: not JSON: {e}")
    if not isinstance(p, dict) or not isinstance(p.get("path"), list):
        raise VerifyError(f"{proof_path}: expected an object with a path")
    path = [_hex32(h, f"path[{i}]") for i, h in enumerate(p["path"])]
    if _uint(p.get("old_size"), "old_size") != old.size or _hex32(p.get("old_root"), "old_root") != old.root:
        raise VerifyError(f"the proof's old tree is not the one signed in {old_path}")
    if _uint(p.get("new_size"), "new_size") != new.size or _hex32(p.get("new_root"), "new_root") != new.root:
        raise VerifyError(f"the proof's new tree is not the one signed in {new_path}")
    verify_consistency(old.size, new.size, old.root, new.root, path)
    return f"the log of {new.size} entries extends the one of {old.size} ({len(path)} hashes)"


def cmd_kat(d):
    """The published vectors, through this file's algorithms."""
    def load(name):
        with open(os.path.join(d, name), encoding="utf-8") as f:
            return json.load(f)

    def b64(s):
        return base64.b64decode(s)

    roots = load("roots.json")
    leaves = [leaf_hash(bytes.fromhex(x)) for x in roots["leaves"]]
    if merkle_root([]).hex() != roots["empty_root"]:
        raise VerifyError("empty root")
    for r in roots["roots"]:
        if merkle_root(leaves[:r["size"]]).hex() != r["root"]:
            raise VerifyError(f"root of size {r['size']}")
    count = 0
    for p in load("inclusion.json")["probes"]:
        try:
            proof = [b64(h) for h in (p["proof"] or [])]
            leaf, root = b64(p["leafHash"]), b64(p["root"])
            if any(len(h) != 32 for h in proof + [leaf, root]):
                raise VerifyError("hash of the wrong length")
            verify_inclusion(p["leafIdx"], p["treeSize"], leaf, proof, root)
            ok = True
        except VerifyError:
            ok = False
        if ok == p["wantErr"]:
            raise VerifyError(f"inclusion probe {p['upstream']}: verified={ok}")
        count += 1
    for p in load("consistency.json")["probes"]:
        try:
            proof = [b64(h) for h in (p["proof"] or [])]
            r1, r2 = b64(p["root1"]), b64(p["root2"])
            if any(len(h) != 32 for h in proof + [r1, r2]):
                raise VerifyError("hash of the wrong length")
            verify_consistency(p["size1"], p["size2"], r1, r2, proof)
            ok = True
        except VerifyError:
            ok = False
        if ok == p["wantErr"]:
            raise VerifyError(f"consistency probe {p['upstream']}: verified={ok}")
        count += 1
    n = load("signed_note.json")
    key = parse_vkey(n["vkey"])
    if open_note(n["signed"].encode(), key, "signed") != n["text"]:
        raise VerifyError("signed note text")
    for v in n["valid_notes"]:
        open_note(v["note"].encode(), key, v["desc"])
    for bad in n["bad_vkeys"]:
        try:
            parse_vkey(bad["vkey"])
        except VerifyError:
            continue
        raise VerifyError(f"accepted bad vkey: {bad['desc']}")
    for bad in n["bad_notes"]:
        note = bytes.fromhex(bad.get("prefix_hex", "")) + bad["note"].encode()
        try:
            open_note(note, key, bad["desc"])
        except VerifyError:
            count += 1
            continue
        raise VerifyError(f"accepted bad note: {bad['desc']}")
    return f"{count} published probes and the signed-note vectors behave as published"


def main(argv):
    args = argv[1:]
    try:
        if len(args) == 2 and args[0] == "export":
            msg = cmd_export(args[1])
        elif len(args) in (4, 6) and args[0] == "proof":
            entries = None
            if len(args) == 6:
                if args[4] != "--entries":
                    raise IndexError
                entries = args[5]
            msg = cmd_proof(args[1], args[2], args[3], entries)
        elif len(args) == 5 and args[0] == "consistency":
            msg = cmd_consistency(args[1], args[2], args[3], args[4])
        elif len(args) == 2 and args[0] == "kat":
            msg = cmd_kat(args[1])
        else:
            raise IndexError
    except IndexError:
        sys.stderr.write(__doc__)
        return 2
    except VerifyError as e:
        sys.stderr.write(f"FAILED: {e}\n")
        return 1
    except OSError as e:
        sys.stderr.write(f"FAILED: {e}\n")
        return 1
    print(f"OK: {msg}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
