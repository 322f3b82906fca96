# Shared by the end-to-end benchmark scripts (sourced, not run).
# REQUIRES: $work, a directory for the scratch files of timed runs.

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
