#!/usr/bin/env bash
# Inference at d = 128 against the closed form: DSM's oscillator (V = ½(x − 0.1)²,
# ħ = 1e-2, σ² = 0.1, phase −5) on 128 axes, the exact baseline alone (a zero
# network: --n-epochs 0 --output-scale 0), propagated from scrambled Sobol points.
#
#   scripts/check_harmonic_d128.sh [M_TEST]      (default 256; ~4 CPU-minutes)
#
# With so few points in 128 dimensions the raw moments carry the sampling error of
# x₀ itself. Each trajectory of a Gaussian packet is x(t) = m(t) + (x₀ − μ₀) σ(t)/σ₀,
# so that error is the same at every t in relative terms: dividing it out leaves
# the integrator's error, which must match the d = 1 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
m_test=${1:-256}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/apps/train_morse --potential harmonic --d 128 --param centre=0.1 --param sigma0=0.31622776601683794 \
  --param hbar=0.01 --param phase=-5 --baseline trap --T 1.0 --dt 0.01 --M 8 --hidden-dims 64 64 \
  --n-epochs 0 --output-scale 0 --checkpoint-path "$work/harmonic_d128.npz" > "$work/train.log"
build/apps/benchmark_moments --checkpoint "$work/harmonic_d128.npz" --sampling sobol --M-test "$m_test" \
  --command "scripts/check_harmonic_d128.sh $m_test" --data-out data/benchmarks/harmonic_d128_sobol.npz
/usr/bin/python3 - data/benchmarks/harmonic_d128_sobol.npz <<'EOF'
import sys
import numpy as np
z = np.load(sys.argv[1])
lv, rv, lm, rm = z['learned_vars'], z['ref_vars'], z['learned_means'], z['ref_means']
print(f"raw:               max |Δvar|/var = {np.abs(lv / rv - 1).max():.2e}, max |Δmean| = {np.abs(lm - rm).max():.2e}"
      f"  (at t = 0 alone: {np.abs(lv[0] / rv[0] - 1).max():.2e}, {np.abs(lm[0] - rm[0]).max():.2e})")
ratio = (lv / rv) / (lv[0] / rv[0])
predicted = rm + (lm[0] - rm[0]) * np.sqrt(rv / rv[0])
print(f"sampling removed:  max |Δvar|/var = {np.abs(ratio - 1).max():.2e}, max |Δmean| = {np.abs(lm - predicted).max():.2e}")
EOF
