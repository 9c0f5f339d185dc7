#!/usr/bin/env bash
# How the evaluation of a trained checkpoint converges with the sampling of x₀:
# runs benchmark_moments once per rule (at the checkpoint's own T and dt) and
# prints one table row each.
#
#   scripts/check_quadrature.sh CHECKPOINT FFT_REF [METHOD:COUNT ...]
#   default rules: gauss-hermite:1000 gauss-hermite:20000 gauss-hermite:80000
#                  sobol:16384 sobol:65536 sobol:262144 mc:65536
#
# For the interacting bosons the map x₀ ↦ x(t) is steep across the coincidence
# planes x_i = x_j (the repulsion pushes close pairs apart), and a tensor
# Gauss–Hermite rule, which puts many of its nodes on those planes, converges
# slowly there; this is the check behind the choice of Sobol points
# (docs/benchmarks.md, *The evaluation: why Sobol points for the bosons*).
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n 2,8p "$0"; exit 2; }
for file in "$1" "$2"; do
  [[ -f $file ]] || { echo "check_quadrature.sh: '$file': no such file" >&2; exit 2; }
done
# Absolute paths: the script works from the repository root.
checkpoint=$(realpath "$1")
reference=$(realpath "$2")
shift 2
rules=("$@")
((${#rules[@]})) || rules=(gauss-hermite:1000 gauss-hermite:20000 gauss-hermite:80000
                             sobol:16384 sobol:65536 sobol:262144 mc:65536)
for rule in "${rules[@]}"; do
  [[ $rule =~ ^(mc|sobol|gauss-hermite):[0-9]+$ ]] || { echo "check_quadrature.sh: '$rule': expected METHOD:COUNT, METHOD mc|sobol|gauss-hermite" >&2; exit 2; }
done
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| sampling | max \|Δmean\| | max \|Δvar\|/var | ‖Δvar‖/‖var‖ | seconds |"
echo "|---|---|---|---|---|"
for rule in "${rules[@]}"; do
  method=${rule%%:*}
  count=${rule#*:}
  start=$(date +%s.%N)
  build/apps/benchmark_moments --checkpoint "$checkpoint" --fft-ref "$reference" --sampling "$method" \
    --M-test "$count" --data-out "$work/moments.npz" > "$work/log"
  seconds=$(awk -v start="$start" -v now="$(date +%s.%N)" 'BEGIN { printf "%.0f", now - start }')
  /usr/bin/python3 - "$work/moments.npz" "$seconds" <<'PY'
import sys
import numpy as np
z = np.load(sys.argv[1])
print(f"| {z['sampling']} | {float(z['max_mean_error']):.2e} | {float(z['max_rel_var_error']):.2e} "
      f"| {float(z['rel_l2_var_error']):.2e} | {sys.argv[2]} |")
PY
done
