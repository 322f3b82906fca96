# Shared by the end-to-end benchmark scripts (sourced, not run).

# Reads BUILD or CUSTOS, ROWS, RUNS and SEED from the environment into
# build, custos, rows, runs and seed, and stops the script unless the custos
# binary and every tool named as an argument are there. REQUIRES: $root.
bench_init() {
  build=${BUILD:-build-release}
  custos=${CUSTOS:-$root/$build/custos}
  rows=${ROWS:-1000000}
  runs=${RUNS:-3}
  seed=${SEED:-1}
  if [ ! -x "$custos" ]; then
    echo "no $custos; build it first:" >&2
    echo "  cmake -S $root -B $root/$build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C $root/$build custos" >&2
    exit 1
  fi
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing $tool (scripts/bootstrap installs it)" >&2; exit 1; }
  done
}

# Makes the scratch directory $work: WORK=DIR if given (then kept), else a
# fresh temporary directory, removed at exit unless the variable named by
# $1 (default KEEP) is set.
bench_workdir() {
  keep_var=${1:-KEEP}
  if [ -n "${WORK:-}" ]; then
    work=$(cd "$WORK" && pwd)
    printf -v "$keep_var" 1
  else
    work=$(mktemp -d)
  fi
  trap bench_cleanup EXIT
}
bench_cleanup() { if [ -z "${!keep_var:-}" ]; then rm -rf "$work"; else echo "kept $work" >&2; fi; }

# Writes the synthetic branch export ($rows rows from $seed) to FILE and reads
# it once, so that the tools compared read it from the page cache.
# REQUIRES: $work (below, a scratch directory).
make_sample() {
  "$custos" sample --rows "$rows" --seed "$seed" --out "$1" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  cat "$1" >/dev/null
}

# The functions below REQUIRE $work, a directory for the scratch files of
# timed runs.

# One timed run of a command: prints "SECONDS PEAK_KB" (wall clock and
# peak resident memory from /usr/bin/time -v); stops the script with the
# command's stderr if it fails. The command's stdout is left in $work/out.
timed() {
  /usr/bin/time -v -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    echo "failed: $*" >&2
    cat "$work/err" >&2
    exit 1
  }
  local wall kb
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time")
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
  # m:ss.ss or h:mm:ss to seconds
  awk -v t="$wall" -v kb="$kb" 'BEGIN {
    n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f %d\n", s, kb }'
}

# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Of a file of timed's "SECONDS PEAK_KB" lines: the median seconds, every
# run's seconds on one line, and the largest peak (KB).
median_of() { cut -d' ' -f1 "$1" | median; }
runs_of() { cut -d' ' -f1 "$1" | paste -sd' '; }
peak_of() { cut -d' ' -f2 "$1" | sort -n | tail -1; }
