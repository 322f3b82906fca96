# Helpers the end-to-end scripts share. Source it:  . "$here/e2e_lib.sh"

# Prints a Python 3 that has PyNaCl (the Debian one, python3-nacl, whatever
# PATH says first), or fails naming the script ($1) and what to install.
nacl_python() {
  local p
  for p in "${PYTHON:-}" /usr/bin/python3 python3; do
    [ -n "$p" ] || continue
    if "$p" -c 'import nacl.signing' 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "$1: no python3 with PyNaCl (Debian: apt-get install python3-nacl; scripts/bootstrap)" >&2
  return 1
}

# Prints the 18-character unified social credit code whose first 17
# characters are $1, with its GB 32100 check character.
uscc() {
  python3 - "$1" <<'PY'
import sys
a = "0123456789ABCDEFGHJKLMNPQRTUWXY"
b = sys.argv[1]
s = sum(a.index(c) * pow(3, i, 31) for i, c in enumerate(b))
print(b + a[(31 - s % 31) % 31])
PY
}

# Writes the contract terms every transfer plan needs to $1.
write_contract() {
  printf '%s\n' "# contract terms" "scope = 姓名、手机号" "security = encryption at rest" \
    "no_onward_transfer = yes" "return_or_delete = delete within 30 days" \
    "audit_right = yearly" "breach_notice = within 24 hours" "retention = 五年" >"$1"
}
