# Helpers for the end-to-end scripts about people (people_e2e.sh,
# approvals_e2e.sh). Source it after setting $custos (the binary) and $work
# (the scratch directory, the current one), with PW (the users' password)
# exported.

fail() { echo "FAIL: $*" >&2; exit 1; }
cases=0
refusals=0
expect_exit() {  # expect_exit CODE cmd...
  local want=$1; shift
  set +e; "$@" >"$work/out" 2>"$work/err"; local got=$?; set -e
  [ "$got" = "$want" ] || { cat "$work/out" "$work/err" >&2; fail "exit $got, want $want: $*"; }
  cases=$((cases + 1))
  if [ "$want" = 5 ]; then
    refusals=$((refusals + 1))
    grep -q '\[permission_denied\]' "$work/err" || fail "no permission_denied: $*"
  fi
}
json_get() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

# enrol USER ROLES: added by whoever acts (key holder, then the custodian's
# session), enrolled with the secret; leaves USER.totp (base32 secret).
enrol() {
  local user=$1 roles=$2
  shift 2
  "$custos" user add --id "$user" --name "姓名$user" --role "$roles" --json "$@" >"$user.add"
  SECRET=$(json_get "$user.add" enrolment_secret) \
    "$custos" user enrol --id "$user" --secret-env SECRET --password-env PW --json >"$user.enrol"
  json_get "$user.enrol" totp_secret >"$user.totp"
}
# login USER: a session file of its own, sessions/USER.
login() {
  local user=$1
  CODE=$(fresh_code "$user") \
    "$custos" login --user "$user" --password-env PW --totp-env CODE \
    --session "$work/sessions/$user" --json >/dev/null
}
as() {  # as USER cmd... : runs custos as USER's session
  local user=$1; shift
  "$custos" "$@" --session "$work/sessions/$user"
}

# fresh_code USER: a one-time code USER has not used yet. Custos accepts a
# code one 30-second step either side of now, once, and never one at or
# before the last it accepted: take the next unused step, waiting for the
# clock when the steps within reach are spent. Never the previous step: the
# clock may pass a step boundary before Custos checks the code, and the
# previous step is then out of reach. Tracks USER.step.
fresh_code() {
  local user=$1 now step last
  now=$(($(date +%s) / 30))
  last=$(cat "$user.step" 2>/dev/null || echo 0)
  step=$((last + 1 > now ? last + 1 : now))
  while [ "$step" -gt $(($(date +%s) / 30 + 1)) ]; do sleep 1; done
  echo "$step" >"$user.step"
  oathtool --totp -b -N "@$((step * 30 + 15))" "$(cat "$user.totp")"
}
