#!/usr/bin/env bash
# Benchmarks of the split-operator FFT reference under /usr/bin/time -v, each
# printed as a Markdown table row (machine, threads, wall and CPU time, peak
# RSS, E_exact, rows), as in docs/performance.md, *The FFT reference*. Wall time
# depends on what else runs; CPU time much less so.
#
#   scripts/bench_fft.sh                 # the paper's case: d = 4 Morse chain, N = 64, L = 8,
#                                        # T = 3.14159, dt = 0.01 (315 rows)
#   scripts/bench_fft.sh --versus PATH/TO/BohmianFlow/bohmian_flow/fft.py
#                                        # d = 4, N = 32, T = 1, dt = 0.01 through both
#                                        # compute_fft_reference and the reference's numpy
#                                        # solver (scripts/reference_fft_run.py), side by side
#   BUILD_DIR=build-fft scripts/bench_fft.sh --threads 2
# Other arguments go to compute_fft_reference.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
APP="$BUILD_DIR/apps/compute_fft_reference"
if [ ! -x "$APP" ]; then
  echo "bench_fft.sh: $APP is missing; build first (scripts/build.sh)" >&2
  exit 1
fi
REFERENCE=""
if [ "${1:-}" = "--versus" ]; then
  REFERENCE=${2:?"bench_fft.sh: --versus needs the path of the reference's bohmian_flow/fft.py"}
  [ -f "$REFERENCE" ] || { echo "bench_fft.sh: --versus $REFERENCE: no such file" >&2; exit 1; }
  shift 2
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)

# measure NAME COMMAND...: runs COMMAND under /usr/bin/time -v and prints its row;
# leaves its wall seconds and peak RSS (kB) in $WORK/NAME.wall and $WORK/NAME.rss.
measure() {
  local name=$1
  shift
  /usr/bin/time -v "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || {
    cat "$WORK/$name.out" "$WORK/$name.err" >&2
    exit 1
  }
  # /usr/bin/time -v: "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:35.22"
  local wall cpu_s rss_kb energy rows drift threads
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' \
    "$WORK/$name.err")
  cpu_s=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$WORK/$name.err")
  rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/$name.err")
  energy=$(awk '/E_exact =/ { print $3 }' "$WORK/$name.out")
  rows=$(awk '/rows:/ { print $2 }' "$WORK/$name.out")
  drift=$(awk -F'= ' '/max \|norm/ { print $2 }' "$WORK/$name.out")
  threads=$(awk -F'threads=' '/threads=/ { split($2, p, /[ ,]/); print p[1]; exit }' "$WORK/$name.out")
  echo "$wall" >"$WORK/$name.wall"
  echo "$rss_kb" >"$WORK/$name.rss"
  printf '| %s | %s, %s cores | %s | %s | %s | %.0f | %s | %s | %s |\n' "$name" "$CPU" "$(nproc)" \
    "${threads:-1}" "$wall" "$cpu_s" "$(awk -v kb="$rss_kb" 'BEGIN { print kb / 1024 }')" \
    "$energy" "$rows" "${drift:--}"
}

echo "| solver | machine | threads | wall time (s) | CPU time (s) | peak RSS (MB) | E_exact | rows | max norm drift |"
echo "|---|---|---|---|---|---|---|---|---|"
if [ -z "$REFERENCE" ]; then
  measure compute_fft_reference "$APP" --d 4 --N 64 --L 8.0 --T 3.14159 --dt 0.01 \
    -o "$WORK/fft_ref_bench.npz" "$@"
else
  measure compute_fft_reference "$APP" --d 4 --N 32 --L 8.0 --T 1 --dt 0.01 \
    -o "$WORK/fft_ref_bench.npz" "$@"
  measure reference_numpy /usr/bin/python3 scripts/reference_fft_run.py "$REFERENCE" \
    --d 4 --N 32 --L 8.0 --T 1 --dt 0.01
  awk -v a="$(cat "$WORK/reference_numpy.wall")" -v b="$(cat "$WORK/compute_fft_reference.wall")" \
      -v ra="$(cat "$WORK/reference_numpy.rss")" -v rb="$(cat "$WORK/compute_fft_reference.rss")" \
      'BEGIN { printf "\ncompute_fft_reference: %.1fx faster, %.2f of the peak memory\n", a / b, rb / ra }'
fi
