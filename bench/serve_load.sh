#!/usr/bin/env bash
# custos serve under load, against a minimal baseline in the same run.
#
# Builds a vault of ROWS people (default 1,000,000) from the synthetic export,
# with one operator who signs in, starts `custos serve` on loopback and
# drives it with wrk (keep-alive, CONNS connections, DURATION seconds):
#   (a) audited masked lookups: POST /api/v1/persons/search {"id_number"}:
#       the session resumed, the blind index looked up, the person's masked
#       name, one audit entry committed before the answer;
#   (b) audited clear reads with a purpose: POST
#       /api/v1/persons/{person}/clear-reads {"purpose"} by an officer whose
#       session stepped up once (password and a fresh code, five minutes):
#       the person's records decrypted, one audit entry with the purpose.
# Then the same lookups through bench/baseline_http: the same CSV in a plain
# SQLite table with an index on the ID number, behind a minimal Boost.Beast
# handler (no encryption, no session, no audit). Prints req/s, p50 and p99
# for both, the ratio, the server's peak RSS, and checks that the audit log
# holds exactly one entry per answered lookup and verifies afterwards.
#
# With STORE=postgresql the vault is in PostgreSQL (a throwaway cluster
# started here with tests/pg_cluster.sh, or PG_ADMIN_URI), and (a) runs
# twice: on one server, then on two servers of the same vault at once (wrk
# against each with half the connections): their summed rate, the worse
# p99, the scaling from one to two, and again one audit entry per answered
# lookup across both.
#
# Usage: bench/serve_load.sh          ROWS=200000 DURATION=10 bench/serve_load.sh
#        STORE=postgresql bench/serve_load.sh
# Environment: BUILD (default build-release), ROWS, CONNS (64), DURATION
# (20), THREADS (server worker threads), STORE (sqlite or postgresql),
# PG_ADMIN_URI, KEEP=1 to keep the work directory.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
bench_init wrk oathtool sqlite3 python3
baseline="$root/$build/bench/baseline_http"
[ -x "$baseline" ] || { echo "no $baseline: ninja -C $root/$build baseline_http" >&2; exit 1; }
conns=${CONNS:-64}
duration=${DURATION:-20}
bench_workdir
cd "$work"
export PW='分公司注销 bench password'
pids=()
store=${STORE:-sqlite}
stop_all() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ -f "$work/pg.uri" ]; then "$root/tests/pg_cluster.sh" stop "$work/pg.uri"; fi
  bench_cleanup
}
trap stop_all EXIT
vault=v.vault
if [ "$store" = postgresql ]; then
  admin=${PG_ADMIN_URI:-}
  if [ -z "$admin" ]; then
    "$root/tests/pg_cluster.sh" start "$work/pg.uri"
    admin=$(cat "$work/pg.uri")
  fi
  psql -X -q -v ON_ERROR_STOP=1 "$admin" -c "DROP DATABASE IF EXISTS bench_serve" \
    -c "CREATE DATABASE bench_serve OWNER custos_vault" >/dev/null
  vault="postgresql://custos_vault@/bench_serve?${admin#*\?}"
fi

echo "== a vault of $rows rows ($store), one operator" >&2
make_sample crm.csv
"$custos" init --vault "$vault" --key-file k.key >/dev/null
"$custos" import crm.csv --vault "$vault" --key-file k.key --dataset crm --no-progress >/dev/null
vo=(--vault "$vault" --key-file k.key)
# The key holder adds the custodian (the vault's first user), then acts as
# break-glass for the operator and the officer (who reads in clear, trained).
for u in custodian:cust operator:op officer:off; do
  glass=()
  [ "${u#*:}" != cust ] && glass=(--break-glass)
  "$custos" user add "${vo[@]}" "${glass[@]}" --id "${u#*:}" --name "${u#*:}" --role "${u%%:*}" \
    --json >"${u#*:}.add"
  SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["enrolment_secret"])' "${u#*:}.add") \
    "$custos" user enrol "${vo[@]}" --id "${u#*:}" --secret-env SECRET --password-env PW --json >"${u#*:}.enrol"
done
for u in cust op off; do
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totp_secret"])' "$u.enrol" >"$u.totp"
done
# The custodian records the officer's classroom training.
CODE=$(oathtool --totp -b "$(cat cust.totp)") "$custos" login "${vo[@]}" --user cust --password-env PW \
  --totp-env CODE --session cust.session >/dev/null
echo "bench classroom record" >evidence.txt
course=$("$custos" training course "${vo[@]}" --session cust.session --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
"$custos" training record "${vo[@]}" --session cust.session --user off --course "$course" --score 90 \
  --date "$(date -u +%F)" --evidence evidence.txt >/dev/null
# ID numbers of the export that are valid (the sample plants a few bad ones).
python3 - <<'PY'
import csv, random
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ids = []
with open("crm.csv", encoding="utf-8-sig") as f:
    for row in csv.DictReader(f):
        s = row["身份证号"]
        if len(s) == 18 and s[:17].isdigit() and \
           "10X98765432"[sum(int(a) * b for a, b in zip(s[:17], w)) % 11] == s[17].upper():
            ids.append(s)
random.seed(1)
random.shuffle(ids)
open("ids.txt", "w").write("\n".join(ids[:100000]) + "\n")
PY
cat >search.lua <<'LUA'
local ids, i = {}, 0
local token = os.getenv("TOKEN") or ""
for line in io.lines("ids.txt") do ids[#ids + 1] = line end
request = function()
  i = i % #ids + 1
  return wrk.format("POST", "/api/v1/persons/search",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    '{"id_number":"' .. ids[i] .. '"}')
end
LUA

cat >clear.lua <<'LUA'
local persons, i = {}, 0
local token = os.getenv("TOKEN") or ""
for line in io.lines("persons.txt") do persons[#persons + 1] = line end
request = function()
  i = i % #persons + 1
  return wrk.format("POST", "/api/v1/persons/" .. persons[i] .. "/clear-reads",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    '{"purpose":"核对客户身份 (bench)"}')
end
LUA

# CPU seconds (user + system) used so far by the processes named $1 (the
# PostgreSQL server's processes, the custos servers).
cpu_of() {
  local total=0 pid t
  for pid in $(pgrep -x "$1"); do
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }'
}
# run_wrk NAME URL [SCRIPT]: wrk's summary into NAME.wrk, and the CPU the
# custos servers and PostgreSQL used meanwhile into NAME.cpu.
run_wrk() {
  local c0 p0
  c0=$(cpu_of custos)
  p0=$(cpu_of postgres)
  wrk -t2 -c"$conns" -d"${duration}s" --latency -s "${3:-search.lua}" "$2" >"$1.wrk" 2>&1
  echo "custos $(awk -v a="$(cpu_of custos)" -v b="$c0" 'BEGIN { print a - b }') s, postgres $(awk -v a="$(cpu_of postgres)" -v b="$p0" 'BEGIN { print a - b }') s" >"$1.cpu"
}
rate() { awk '/Requests\/sec/ {print $2}' "$1.wrk"; }
# Requests in flight when wrk stops are answered (and audited) after it:
# wait until the servers' logs stop growing before counting.
settle() {
  local before now
  now=$(cat ./*.err 2>/dev/null | wc -l)
  while :; do
    before=$now
    sleep 1
    now=$(cat ./*.err 2>/dev/null | wc -l)
    [ "$now" = "$before" ] && return 0
  done
}
pct() { awk -v p="$2%" '$1 == p {print $2}' "$1.wrk"; }
non2xx() { awk '/Non-2xx/ {print $5}' "$1.wrk" | grep . || echo 0; }

echo "== custos serve" >&2
# start_server NAME: `custos serve` logging to NAME.out/NAME.err, with a
# state directory of its own; sets $url and $server.
start_server() {
  local serve_args=(serve "${vo[@]}" --listen 127.0.0.1:0 --state-dir "$work/$1.state")
  [ -n "${THREADS:-}" ] && serve_args+=(--threads "$THREADS")
  "$custos" "${serve_args[@]}" >"$1.out" 2>"$1.err" &
  pids+=($!)
  server=$!
  url=""
  for _ in $(seq 200); do
    url=$(sed -n 's/^custos serve: listening on \([^ ]*\) .*/\1/p' "$1.out")
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$1.err" >&2; exit 1; }
}
start_server serve
# sign_in USER: the session token (a fresh code of USER's secret).
sign_in() {
  local code
  code=$(oathtool --totp -b "$(cat "$1.totp")")
  curl -s -X POST -d "{\"user\":\"$1\",\"password\":\"$PW\",\"totp\":\"$code\"}" \
    "$url/api/v1/sessions" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
entries() {
  "$custos" audit verify "${vo[@]}" --break-glass --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'
}
# answered ROUTE [LOG]: requests of ROUTE the server answered 200 (its log).
answered() {
  python3 - "$1" "${2:-serve.err}" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[2]):
    if line.startswith("{"):
        j = json.loads(line)
        n += j["route"] == sys.argv[1] and j["status"] == 200
print(n)
PY
}
TOKEN=$(sign_in op)
export TOKEN
before=$(entries)
run_wrk custos "$url"
settle
after_a=$(entries)
answered_a=$(answered /api/v1/persons/search)

if [ "$store" = postgresql ]; then
  echo "== custos serve: two servers on one database" >&2
  url_a=$url
  server_a=$server
  start_server serve-b
  url_b=$url
  server=$server_a
  url=$url_a
  before2=$(entries)
  answered_before=$(answered /api/v1/persons/search)
  half=$((conns / 2))
  wrk -t1 -c"$half" -d"${duration}s" --latency -s search.lua "$url_a" >two-a.wrk 2>&1 &
  w1=$!
  wrk -t1 -c"$half" -d"${duration}s" --latency -s search.lua "$url_b" >two-b.wrk 2>&1 &
  w2=$!
  wait "$w1" "$w2"
  settle
  after2=$(entries)
  answered_two=$(($(answered /api/v1/persons/search) - answered_before + $(answered /api/v1/persons/search serve-b.err)))
  added_two=$((after2 - before2))
fi

echo "== custos serve: clear reads" >&2
# The people of some of the looked-up ID numbers (one connection, keep-alive).
python3 - "$url" <<'PY' >persons.txt
import http.client, json, os, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
h = {"Authorization": "Bearer " + os.environ["TOKEN"], "Content-Type": "application/json"}
for n, line in enumerate(open("ids.txt")):
    if n == 5000:
        break
    c.request("POST", "/api/v1/persons/search", json.dumps({"id_number": line.strip()}), h)
    for p in json.load(c.getresponse())["people"]:
        print(p["person"])
PY
TOKEN=$(sign_in off)
sleep 31   # the step-up needs a code the sign-in did not use
code=$(oathtool --totp -b "$(cat off.totp)")
curl -sf -X POST -H "Authorization: Bearer $TOKEN" -d "{\"password\":\"$PW\",\"totp\":\"$code\"}" \
  "$url/api/v1/sessions/current/step-up" >stepup.json || { cat stepup.json >&2; exit 1; }
before_b=$(entries)
run_wrk clear "$url" clear.lua
settle
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
kill -TERM "$server"
wait "$server" || true
after_b=$(entries)
answered_b=$(answered "/api/v1/persons/{person}/clear-reads")
# Entries added while wrk ran: exactly one per answered lookup or read.
added_a=$((after_a - before))
added_b=$((after_b - before_b))

echo "== baseline: sqlite3 behind a minimal HTTP handler" >&2
sqlite3 base.db -cmd '.mode csv' '.import crm.csv crm' 'CREATE INDEX by_id ON crm(身份证号);' 2>/dev/null
"$baseline" base.db 0 >baseline.out &
pids+=($!)
for _ in $(seq 50); do port=$(awk '/listening on/ {print $3}' baseline.out); [ -n "$port" ] && break; sleep 0.1; done
run_wrk baseline "http://127.0.0.1:$port"

c=$(rate custos); b=$(rate baseline); r=$(rate clear)
printf '\n| %s | req/s | p50 | p99 | non-2xx |\n| --- | --- | --- | --- | --- |\n' "$rows people ($store), $conns conns, ${duration}s"
printf '| custos serve (a) audited masked lookup | %s | %s | %s | %s |\n' "$c" "$(pct custos 50)" "$(pct custos 99)" "$(non2xx custos)"
if [ "$store" = postgresql ]; then
  two=$(awk -v x="$(rate two-a)" -v y="$(rate two-b)" 'BEGIN { printf "%.2f", x + y }')
  printf '| two servers (a), each half the connections | %s (%s + %s) | %s / %s | %s / %s | %s |\n' "$two" \
    "$(rate two-a)" "$(rate two-b)" "$(pct two-a 50)" "$(pct two-b 50)" "$(pct two-a 99)" "$(pct two-b 99)" \
    "$(($(non2xx two-a) + $(non2xx two-b)))"
fi
printf '| custos serve (b) audited clear read with purpose | %s | %s | %s | %s |\n' "$r" "$(pct clear 50)" "$(pct clear 99)" "$(non2xx clear)"
printf '| baseline (sqlite3 + minimal HTTP) | %s | %s | %s | %s |\n' "$b" "$(pct baseline 50)" "$(pct baseline 99)" "$(non2xx baseline)"
awk -v c="$c" -v r="$r" -v b="$b" 'BEGIN { printf "\ncustos/baseline: (a) %.3f, (b) %.3f of the baseline'"'"'s rate\n", c / b, r / b }'
echo "server peak RSS: $((rss_kb / 1024)) MB"
echo "CPU while wrk ran (of $((2 * duration)) s on 2 cores): (a) $(cat custos.cpu); (b) $(cat clear.cpu)"
echo "audit: (a) $answered_a lookups answered, $added_a entries added; (b) $answered_b clear reads answered, $added_b entries added; audit verify passed"
[ "$added_a" = "$answered_a" ] || { echo "audit entries do not match the answered lookups" >&2; exit 1; }
if [ "$store" = postgresql ]; then
  awk -v t="$two" -v c="$c" 'BEGIN { printf "scaling from one server to two: %.2f\n", t / c }'
  echo "audit, two servers: $answered_two lookups answered, $added_two entries added"
  [ "$added_two" = "$answered_two" ] || { echo "audit entries do not match the two servers' lookups" >&2; exit 1; }
fi
[ "$added_b" = "$answered_b" ] || { echo "audit entries do not match the answered clear reads" >&2; exit 1; }
[ "$(non2xx clear)" = 0 ] || { echo "clear reads were refused" >&2; exit 1; }
