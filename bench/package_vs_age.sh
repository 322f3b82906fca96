#!/usr/bin/env bash
# custos transfer package against what a user would do by hand: a sqlite3
# query of the same columns to CSV, piped through age to the same recipient.
#
# Setup (not timed): generates the synthetic branch export with
# `custos sample`, imports it into a fresh vault, adds a recipient whose keys
# come from the stock age-keygen and ssh-keygen, plans a head-office transfer
# of a minimized field set (FIELDS, default 姓名,手机号,联系地址), makes the
# notices, and keeps a copy of that vault. The same CSV is loaded once into a
# sqlite3 database. Then, alternately, RUNS times each:
#   custos transfer package --vault COPY --transfer T1 --out T1.tar
#       (on a fresh copy of the noticed vault each run, since packaging
#        changes the transfer's state; the copy is not timed)
#   sh -c 'sqlite3 -csv DB "SELECT <FIELDS> FROM t" | age -r RECIPIENT > out.age'
# and prints the medians, the ratio and the peak resident memory
# (/usr/bin/time -v; for the pipeline, the largest of its processes). The
# target (shared/design/performance.md): packaging no slower than the
# pipeline, peak memory under 300 MB. The first custos package is checked
# with the stock tools (ssh-keygen -Y verify, age -d, line count).
#
# Usage: bench/package_vs_age.sh                 (1,000,000 rows, 3 runs)
#        ROWS=100000 RUNS=5 bench/package_vs_age.sh
# Environment: BUILD (default build-release) or CUSTOS (path of the binary),
# ROWS, RUNS, SEED, FIELDS, KEEP=1 to keep the work directory, WORK=DIR to
# reuse one kept earlier (its setup is not redone; ROWS, SEED and FIELDS
# must be those it was made with).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"  # bench_init, bench_workdir, make_sample, timed, median
bench_init sqlite3 age age-keygen ssh-keygen /usr/bin/time python3
fields=${FIELDS:-姓名,手机号,联系地址}

bench_workdir
cd "$work"
export CUSTOS_KEY_FILE=$work/branch.key CUSTOS_ACTOR=bench

quiet() { "$@" >"$work/setup.out" 2>"$work/setup.err" || { cat "$work/setup.out" "$work/setup.err" >&2; exit 1; }; }

# ---- setup, not timed ----
if [ ! -f base.vault ] || [ ! -f hand.db ]; then
quiet "$custos" sample --rows "$rows" --seed "$seed" --out crm.csv
quiet "$custos" init --vault base.vault
quiet "$custos" import crm.csv --vault base.vault --dataset crm --no-progress
age-keygen -o ho-age.key 2>/dev/null
recipient=$(age-keygen -y ho-age.key)
ssh-keygen -q -t ed25519 -N '' -C ho -f ho-ssh
quiet "$custos" recipient add --vault base.vault --id ho --name 某公司总部 --uscc 91350100M000100Y43 \
  --contact 400-800-0000 --age-recipient "$recipient" --ssh-key "$(cat ho-ssh.pub)"
cat >contract.txt <<'T'
scope = 姓名、手机号、联系地址，仅限本次转移的客户
security = encryption at rest, access control
no_onward_transfer = yes
return_or_delete = delete within 30 days after termination
audit_right = sender may audit once a year
breach_notice = within 24 hours
retention = 账户关闭后五年
T
quiet "$custos" transfer plan --vault base.vault --id T1 --recipient ho --mode head-office \
  --purpose 继续提供账户服务 --method 电子化存储 --fields "$fields" \
  --processor-name 某公司北京分公司 --processor-contact 010-88888888 --contract contract.txt \
  --approved-by 个人信息保护负责人
quiet "$custos" transfer notices --vault base.vault --transfer T1 --channel sms --out notices.csv
rm -f notices.csv
sqlite3 hand.db -cmd '.mode csv' ".import crm.csv t"
fi
recipient=$(age-keygen -y ho-age.key)
sender_key=$("$custos" keys public --vault base.vault --format ssh | awk '{print $1" "$2}')
people=$("$custos" transfer status --vault base.vault --transfer T1 --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["included"])')

# The same columns, by name (quoted: the headers are Chinese).
columns=$(echo "$fields" | awk -F, '{ for (i = 1; i <= NF; i++) printf "%s\"%s\"", (i > 1 ? "," : ""), $i }')
query="SELECT $columns FROM t"
bytes=$(stat -c %s crm.csv)
vault_bytes=$(stat -c %s base.vault)
cat crm.csv base.vault hand.db >/dev/null  # both sides read from the page cache


# The first package, checked with the stock tools.
check_package() {
  mkdir x && tar -xf T1.tar -C x
  echo "branch $sender_key" >allowed
  ssh-keygen -Y verify -f allowed -I branch -n custos-package -s x/manifest.json.sig <x/manifest.json >/dev/null ||
    { echo "ssh-keygen does not verify the manifest" >&2; exit 1; }
  local lines
  lines=$(age -d -i ho-age.key x/payload.jsonl.age | wc -l)
  [ "$lines" = "$people" ] || { echo "payload holds $lines people, want $people" >&2; exit 1; }
  [ "$(age -d -i ho-age.key out.age | wc -l)" = "$((rows + 1))" ] ||
    { echo "the sqlite3 | age output does not hold $rows rows and a header" >&2; exit 1; }
  rm -rf x allowed
}

: >custos.txt
: >hand.txt
for ((i = 1; i <= runs; i++)); do
  rm -f run.vault run.vault-wal run.vault-shm T1.tar out.age
  cp base.vault run.vault
  sync
  timed "$custos" transfer package --vault run.vault --transfer T1 --out T1.tar >>custos.txt
  timed sh -c "sqlite3 -csv -header hand.db '$query' | age -r '$recipient' > out.age" >>hand.txt
  if [ "$i" -eq 1 ]; then check_package; fi
  pkg_bytes=$(stat -c %s T1.tar)
  age_bytes=$(stat -c %s out.age)
done

c_med=$(median_of custos.txt)
h_med=$(median_of hand.txt)
c_rss=$(peak_of custos.txt)
h_rss=$(peak_of hand.txt)

echo "transfer package vs sqlite3 | age: $rows rows ($((bytes / 1000000)) MB CSV, vault $((vault_bytes / 1000000)) MB), $people people, fields $fields, $runs runs each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-24s %8s s (runs: %s)  peak RSS %d MB, output %d MB\n' "custos transfer package" "$c_med" \
  "$(runs_of custos.txt)" "$((c_rss / 1024))" "$((pkg_bytes / 1000000))"
printf '  %-24s %8s s (runs: %s)  peak RSS %d MB, output %d MB\n' "sqlite3 -csv | age -r" "$h_med" \
  "$(runs_of hand.txt)" "$((h_rss / 1024))" "$((age_bytes / 1000000))"
awk -v c="$c_med" -v h="$h_med" -v p="$people" 'BEGIN {
  printf "  ratio custos/pipeline: %.2f (%s); custos %.0f k people/s\n",
    c / h, (c <= h ? "no slower: target met" : "slower: target missed"), p / c / 1000 }'
