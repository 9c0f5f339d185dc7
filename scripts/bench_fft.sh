#!/usr/bin/env bash
# Benchmark of the split-operator FFT reference on the paper's case: the d = 4
# Morse chain, N = 64 points per axis, L = 8, T = 3.14159, dt = 0.01 (315 rows).
# Runs compute_fft_reference under /usr/bin/time -v and prints a Markdown table
# row (machine, threads, wall and CPU time, peak RSS, E_exact, rows), as in
# docs/performance.md, *The FFT reference*. Wall time depends on what else
# runs; CPU time much less so.
#
#   scripts/bench_fft.sh                 # uses build/apps/compute_fft_reference
#   BUILD_DIR=build-fft scripts/bench_fft.sh --threads 2
# Extra arguments go to compute_fft_reference.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
APP="$BUILD_DIR/apps/compute_fft_reference"
if [ ! -x "$APP" ]; then
  echo "bench_fft.sh: $APP is missing; build first (scripts/build.sh)" >&2
  exit 1
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

/usr/bin/time -v "$APP" --d 4 --N 64 --L 8.0 --T 3.14159 --dt 0.01 \
  -o "$WORK/fft_ref_bench.npz" "$@" >"$WORK/stdout" 2>"$WORK/stderr" || {
  cat "$WORK/stdout" "$WORK/stderr" >&2
  exit 1
}

# /usr/bin/time -v: "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:35.22"
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
  n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s }' \
  "$WORK/stderr")
cpu_s=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$WORK/stderr")
rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/stderr")
energy=$(awk '/E_exact =/ { print $3 }' "$WORK/stdout")
rows=$(awk '/rows:/ { print $2 }' "$WORK/stdout")
drift=$(awk -F'= ' '/max \|norm/ { print $2 }' "$WORK/stdout")
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
threads=$(awk -F'threads=' '/threads=/ { split($2, p, /[ ,]/); print p[1]; exit }' "$WORK/stdout")

cat "$WORK/stdout"
echo
echo "| machine | threads | wall time (s) | CPU time (s) | peak RSS (MB) | E_exact | rows | max norm drift |"
echo "|---|---|---|---|---|---|---|---|"
printf '| %s, %s cores | %s | %s | %s | %.0f | %s | %s | %s |\n' "$cpu" "$(nproc)" "$threads" \
  "$wall" "$cpu_s" "$(awk -v kb="$rss_kb" 'BEGIN { print kb / 1024 }')" "$energy" "$rows" "$drift"
