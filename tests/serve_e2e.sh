#!/usr/bin/env bash
# End to end: `custos serve` on loopback, driven with curl and `custos unseal`.
#
#   tests/serve_e2e.sh path/to/custos
#
# 1. A vault with users; its key split 2-of-3 to custodians (age-keygen).
# 2. The server starts sealed: health only; one share does not unseal it,
#    two do (`custos unseal`, one share opened by Custos, one by age -d).
# 3. Without a session every endpoint is 401; with one, a search and a
#    masked read give the same JSON as the CLI; the auditor's search is 403
#    and in the log; a cookie session needs its CSRF token.
#    The OpenAPI document validates (@seriousme/openapi-schema-validator).
# 4. Security headers; the server's log lines are JSON and hold no value.
# 5. TLS (a self-signed certificate made with openssl) with HSTS; plain HTTP
#    off loopback is refused; SIGTERM stops the server cleanly; the audit
#    log verifies; sign-in attempts are throttled.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 path/to/custos" >&2
  exit 2
fi
custos="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export CUSTOS_VAULT="$work/v.vault" CUSTOS_ACTOR=keyholder XDG_STATE_HOME="$work/state"
export PW='分公司注销 correct horse'
unset CUSTOS_KEY_FILE CUSTOS_PASSPHRASE CUSTOS_SERVER

. "$here/people_lib.sh"
. "$here/serve_lib.sh"

# call METHOD PATH [BODY] [curl args]: the body into out.json, the status
# printed. BODY is JSON ('' or absent for none; curl args start with -).
call() {
  local method=$1 path=$2 body=""
  shift 2
  if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then body=$1; shift; fi
  [ $# -gt 0 ] && [ -z "${1}" ] && shift
  local args=(-s -o out.json -D headers.txt -w '%{http_code}' -X "$method" "$@")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  curl "${args[@]}" "$url$path"
}
expect_status() {  # expect_status CODE METHOD PATH [BODY] [curl args]
  local want=$1; shift
  local got
  got=$(call "$@")
  [ "$got" = "$want" ] || { cat out.json >&2; fail "HTTP $got, want $want: $*"; }
  cases=$((cases + 1))
}
error_code() { python3 -c 'import json; print(json.load(open("out.json"))["error"]["code"])'; }

# 1. The vault, its people, its key shares.
"$custos" sample --rows 40 --seed 5 --out crm.csv 2>/dev/null
"$custos" init --key-file k.key >/dev/null
"$custos" import crm.csv --dataset crm --key-file k.key >/dev/null
export CUSTOS_KEY_FILE="$work/k.key"
mkdir sessions
enrol wang.cust custodian
login wang.cust
for u in zhang.op:operator zhou.aud:auditor; do
  enrol "${u%%:*}" "${u#*:}" --session "$work/sessions/wang.cust"
done
for c in 1 2 3; do age-keygen -o "c$c.key" 2>/dev/null; done
"$custos" keys split --session sessions/wang.cust --threshold 2 --out shares \
  --to "$(age-keygen -y c1.key),$(age-keygen -y c2.key),$(age-keygen -y c3.key)" >/dev/null
unset CUSTOS_KEY_FILE
id_number=$(sed -n 2p crm.csv | cut -d, -f4)
mobile=$(sed -n 2p crm.csv | cut -d, -f5)

# Plain HTTP off loopback is refused; a vault without users is not served.
expect_exit 2 "$custos" serve --listen 0.0.0.0:0 --unseal shares
"$custos" init --vault nousers.vault --key-file nk.key >/dev/null
expect_exit 6 "$custos" serve --vault nousers.vault --key-file nk.key --listen 127.0.0.1:0

# 2. Sealed: health answers, nothing else.
start_server s1 --listen 127.0.0.1:0 --unseal shares --threads 2
expect_status 200 GET /healthz
python3 -c 'import json; assert json.load(open("out.json"))["sealed"] is True'
expect_status 503 POST /api/v1/sessions '{"user":"zhang.op","password":"x","totp":"1"}'
[ "$(error_code)" = unavailable ] || fail "sealed: $(cat out.json)"
expect_status 503 GET /api/v1/me
expect_status 200 GET /api/v1/unseal
python3 -c 'import json; j = json.load(open("out.json")); assert j == {"sealed": True, "have": 0, "need": 0}, j'
expect_status 200 GET /api/v1/openapi.json
cp out.json openapi.json
# An off-the-shelf validator accepts the document (OpenAPI 3.1 schema, every
# $ref resolved): tools/openapi-check, installed by make bootstrap.
validator="$here/../tools/openapi-check"
[ -d "$validator/node_modules" ] || fail "no $validator/node_modules: run make bootstrap (scripts/npm-setup)"
node "$validator/validate.mjs" openapi.json >validate.txt 2>&1 || { cat validate.txt >&2; fail "the OpenAPI document does not validate"; }
cases=$((cases + 1))
expect_exit 0 "$custos" unseal --server "$url" --share shares/share-1.age --share-identity c1.key
grep -q "1 of 2" out || fail "progress: $(cat out)"
expect_exit 2 "$custos" unseal --server "$url" --share shares/share-1.age --share-identity c1.key
expect_status 503 GET /api/v1/me
age -d -i c3.key shares/share-3.age >s3.json
expect_exit 0 "$custos" unseal --server "$url" --share s3.json --json
python3 -c 'import json; assert json.load(open("out"))["sealed"] is False'
expect_exit 6 "$custos" unseal --server "$url" --share shares/share-2.age --share-identity c2.key

# 3. Sessions and roles.
for path in /api/v1/me /api/v1/persons/p-0; do
  expect_status 401 GET "$path"
  [ "$(error_code)" = unauthenticated ] || fail "401 body: $(cat out.json)"
done
expect_status 401 POST /api/v1/persons/search "{\"id_number\":\"$id_number\"}"
expect_status 401 GET /api/v1/me -H "Authorization: Bearer not-a-token"
expect_status 400 POST /api/v1/sessions '{"user":"zhang.op"}'
sign_in() {  # sign_in USER: prints the token, leaves the answer in out.json
  local code
  code=$(fresh_code "$1")
  expect_status 201 POST /api/v1/sessions "{\"user\":\"$1\",\"password\":\"$PW\",\"totp\":\"$code\"}"
  python3 -c 'import json; print(json.load(open("out.json"))["token"])'
}
op_token=$(sign_in zhang.op)
grep -qi '^set-cookie: custos_session=.*HttpOnly; Secure; SameSite=Strict' headers.txt ||
  fail "no session cookie: $(cat headers.txt)"
csrf=$(python3 -c 'import json; print(json.load(open("out.json"))["csrf_token"])')
aud_token=$(sign_in zhou.aud)
bearer() { echo "Authorization: Bearer $1"; }
expect_status 200 GET /api/v1/me -H "$(bearer "$op_token")"
python3 -c 'import json; j = json.load(open("out.json")); assert j["user"] == "zhang.op" and j["roles"] == ["operator"], j'
expect_status 200 POST /api/v1/persons/search "{\"id_number\":\"$id_number\"}" -H "$(bearer "$op_token")"
cp out.json server-find.json
grep -qi '^cache-control: no-store' headers.txt || fail "no Cache-Control: no-store"
grep -qi "^content-security-policy: default-src 'self'" headers.txt || fail "no CSP"
grep -qi '^x-content-type-options: nosniff' headers.txt || fail "no nosniff"
person=$(python3 -c 'import json; print(json.load(open("out.json"))["people"][0]["person"])')
expect_status 200 GET "/api/v1/persons/$person" "" -H "$(bearer "$op_token")"
cp out.json server-show.json
# The same calls in the CLI, as the same user: the same JSON.
CUSTOS_KEY_FILE="$work/k.key" login zhang.op
"$custos" find --key-file k.key --session sessions/zhang.op --id "$id_number" --json >cli-find.json
"$custos" show --key-file k.key --session sessions/zhang.op "$person" --json >cli-show.json
python3 - <<'PY'
import json
for a, b in (("server-find.json", "cli-find.json"), ("server-show.json", "cli-show.json")):
    assert json.load(open(a)) == json.load(open(b)), (a, open(a).read(), open(b).read())
s = json.load(open("server-show.json"))
assert s["masked"] is True and s["datasets"], s
PY
cases=$((cases + 1))
# The CLI as a client of the server: login, find and show give what they
# give locally, in JSON and in text.
remote=(--server "$url" --session sessions/zhang.op.remote)
CODE=$(fresh_code zhang.op) expect_exit 0 "$custos" login "${remote[@]}" --user zhang.op \
  --password-env PW --totp-env CODE
grep -q "Logged in as zhang.op \[operator\]" out || fail "remote login: $(cat out)"
[ "$(stat -c %a sessions/zhang.op.remote)" = 600 ] || fail "the remote session file is not 0600"
expect_exit 0 "$custos" find "${remote[@]}" --id "$id_number" --json
cp out remote-find.json
expect_exit 0 "$custos" show "${remote[@]}" "$person" --json
cp out remote-show.json
expect_exit 0 "$custos" show "${remote[@]}" --id "$id_number"
cp out remote-show.txt
"$custos" show --key-file k.key --session sessions/zhang.op --id "$id_number" >local-show.txt
cmp -s remote-show.txt local-show.txt || fail "show differs between server and local: $(diff remote-show.txt local-show.txt)"
python3 - <<'PY'
import json
for a, b in (("remote-find.json", "cli-find.json"), ("remote-show.json", "cli-show.json")):
    assert json.load(open(a)) == json.load(open(b)), (a, b)
PY
expect_exit 3 "$custos" find "${remote[@]}" --mobile 13000000000   # nobody: not_found, as locally
expect_exit 2 "$custos" show "${remote[@]}" "$person" --clear --purpose 核对
expect_exit 5 "$custos" audit verify "${remote[@]}"    # served now: the operator may not
expect_exit 0 "$custos" logout "${remote[@]}"
expect_exit 8 "$custos" find "${remote[@]}" --id "$id_number"
expect_exit 8 "$custos" find --server http://127.0.0.1:1 --session sessions/none --id "$id_number"
expect_exit 9 "$custos" find --server http://127.0.0.1:1 --session sessions/zhang.op --id "$id_number"
# Step-up: a wrong code is refused; a fresh one steps the session up for
# five minutes, which /me shows.
expect_status 200 GET /api/v1/me -H "$(bearer "$aud_token")"
python3 -c 'import json; j = json.load(open("out.json")); assert j["stepped_up_until"] is None, j'
expect_status 400 POST /api/v1/sessions/current/step-up '{"password":"x"}' -H "$(bearer "$aud_token")"
expect_status 401 POST /api/v1/sessions/current/step-up "{\"password\":\"wrong password\",\"totp\":\"000000\"}" \
  -H "$(bearer "$aud_token")"
[ "$(error_code)" = unauthenticated ] || fail "step-up 401: $(cat out.json)"
expect_status 200 POST /api/v1/sessions/current/step-up \
  "{\"password\":\"$PW\",\"totp\":\"$(fresh_code zhou.aud)\"}" -H "$(bearer "$aud_token")"
python3 -c 'import json; j = json.load(open("out.json")); assert j["valid_s"] == 300 and j["user"] == "zhou.aud" and j["stepped_up_until"].endswith("Z"), j'
expect_status 200 GET /api/v1/me -H "$(bearer "$aud_token")"
python3 -c 'import json; j = json.load(open("out.json")); assert isinstance(j["stepped_up_until"], str), j'
# The assessment over the API: the questions drawn (never the key), the
# answers graded once, by their own user only.
expect_status 400 POST /api/v1/training/quizzes '{"x":1}' -H "$(bearer "$aud_token")"
expect_status 201 POST /api/v1/training/quizzes '' -H "$(bearer "$aud_token")"
quiz=$(python3 -c 'import json; j = json.load(open("out.json")); assert all(set(q) == {"id", "question", "choices"} for q in j["questions"]), j; print(j["quiz"])')
n=$(python3 -c 'import json; print(len(json.load(open("out.json"))["questions"]))')
answers=$(python3 -c "import json; print(json.dumps({'answers': ['A'] * $n}))")
expect_status 400 POST "/api/v1/training/quizzes/$quiz/answers" '{"answers":["A"]}' -H "$(bearer "$aud_token")"
expect_status 400 POST "/api/v1/training/quizzes/$quiz/answers" '{"answers":"A"}' -H "$(bearer "$aud_token")"
expect_status 404 POST /api/v1/training/quizzes/0000/answers "$answers" -H "$(bearer "$aud_token")"
expect_status 403 POST "/api/v1/training/quizzes/$quiz/answers" "$answers" -H "$(bearer "$op_token")"
expect_status 200 POST "/api/v1/training/quizzes/$quiz/answers" "$answers" -H "$(bearer "$aud_token")"
python3 -c 'import json; j = json.load(open("out.json")); assert set(j) == {"attempt", "course_version", "score", "pass_mark", "passed"}, j'
expect_status 404 POST "/api/v1/training/quizzes/$quiz/answers" "$answers" -H "$(bearer "$aud_token")"
# The auditor may not read personal data: 403, recorded.
expect_status 403 POST /api/v1/persons/search "{\"id_number\":\"$id_number\"}" -H "$(bearer "$aud_token")"
[ "$(error_code)" = permission_denied ] || fail "403 body: $(cat out.json)"
python3 -c 'import json; assert json.load(open("out.json"))["error"]["exit"] == 5'
# A cookie session: reads need nothing more; a POST needs the CSRF token.
expect_status 200 GET /api/v1/me -H "Cookie: custos_session=$op_token"
expect_status 403 POST /api/v1/persons/search "{\"mobile\":\"$mobile\"}" -H "Cookie: custos_session=$op_token"
expect_status 200 POST /api/v1/persons/search "{\"mobile\":\"$mobile\"}" \
  -H "Cookie: custos_session=$op_token" -H "X-CSRF-Token: $csrf"
expect_status 404 GET /api/v1/nothing-here
expect_status 405 DELETE /api/v1/me "" -H "$(bearer "$op_token")"
grep -qi '^allow: GET' headers.txt || fail "no Allow header on 405"
# Sign out: the token stops working.
expect_status 200 DELETE /api/v1/sessions/current "" -H "$(bearer "$aud_token")"
expect_status 401 GET /api/v1/me -H "$(bearer "$aud_token")"

# 4. The server's log: one JSON line per request, route templates, no values.
kill -TERM "$server_pid"
wait "$server_pid" || fail "the server exited with $? on SIGTERM"
grep -q "custos serve: stopped" s1.out || fail "no clean stop: $(cat s1.out)"
python3 - "$id_number" "$mobile" "$person" <<'PY'
import json, sys
lines = [l for l in open("s1.err") if l.startswith("{")]
assert len(lines) >= 20, len(lines)
routes = set()
for l in lines:
    j = json.loads(l)
    assert set(j) == {"time", "method", "route", "status", "ms", "user"}, j
    routes.add(j["route"])
text = open("s1.err").read()
for value in sys.argv[1:]:
    assert value not in text, "a value in the server's log"
assert "/api/v1/persons/{person}" in routes, routes
# Every operation of the OpenAPI document was called, and every status it
# answered is one the document gives for that operation.
doc = json.load(open("openapi.json"))
called = {}
for l in lines:
    j = json.loads(l)
    called.setdefault((j["method"], j["route"]), set()).add(str(j["status"]))
for path, item in doc["paths"].items():
    for method, op in item.items():
        # The CLI's commands, jobs and downloads: serve_winddown_e2e.sh.
        if "x-custos-command" in op or op["tags"] == ["jobs"]:
            continue
        key = (method.upper(), path)
        assert key in called, "never called: %s %s" % key
        undocumented = called[key] - set(op["responses"])
        assert not undocumented, "%s %s answered %s" % (key[0], key[1], undocumented)
PY
"$custos" audit log --key-file k.key --session sessions/wang.cust --action person --json >log.json 2>/dev/null ||
  "$custos" audit log --key-file k.key --break-glass --action person --json >log.json
python3 - <<'PY'
import json
j = json.load(open("log.json"))
entries = j["entries"] if isinstance(j, dict) else j
refused = [e for e in entries if e["actor"] == "zhou.aud" and e["result"] == "refused"]
assert refused, "the auditor's refused search is not in the log"
PY
cases=$((cases + 1))

# 5. TLS with a self-signed certificate; HSTS; unsealed at start by key file.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout tls.key -out tls.crt 2>/dev/null
start_server s2 --listen 127.0.0.1:0 --key-file k.key --tls-cert tls.crt --tls-key tls.key
case "$url" in https://*) ;; *) fail "not https: $url" ;; esac
grep -q "weaker option" s2.err || fail "no warning about the key file on the server"
expect_status 200 GET /healthz --cacert tls.crt
grep -qi '^strict-transport-security: max-age=' headers.txt || fail "no HSTS"
expect_exit 6 "$custos" unseal --server "$url" --share s3.json --ca-cert tls.crt
expect_exit 8 "$custos" unseal --server "$url" --share s3.json   # not trusted without --ca-cert
# Sign-in attempts from one address are throttled (10 a minute).
got429=0
for i in $(seq 12); do
  code=$(call POST /api/v1/sessions '{"user":"nobody","password":"x","totp":"000000"}' --cacert tls.crt)
  [ "$code" = 429 ] && got429=1
done
[ "$got429" = 1 ] || fail "no 429 after 12 sign-in attempts"
grep -qi '^retry-after: 60' headers.txt || fail "no Retry-After"
cases=$((cases + 1))
kill -TERM "$server_pid"
wait "$server_pid" || fail "the TLS server exited with $? on SIGTERM"
expect_exit 0 "$custos" audit verify --key-file k.key --session sessions/wang.cust

echo "serve_e2e: $cases cases, all as expected"
