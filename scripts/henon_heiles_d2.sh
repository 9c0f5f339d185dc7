#!/usr/bin/env bash
# The Hénon–Heiles example of docs/autocorrelation.md, d = 2 (λ = 0.111803,
# ψ₀ = Π exp(−(q_k − 2)²/2)): the exact reference to t = 4 and to t = 50 (for
# the spectrum's lines), a training run to T = 2 in two stages (32×32 network,
# 256 particles, the trap baseline ½|q|²), then the learned moments, a(t) and
# σ(E) against the exact ones out to t = 4, and the figure.
#   scripts/henon_heiles_d2.sh [extra train flags, e.g. --threads 2]
set -euo pipefail
cd "$(dirname "$0")/.."
apps=build/apps
mkdir -p data/logs checkpoints
system=(--potential henon_heiles --d 2)
seconds() { local start=$SECONDS; "$@"; echo "   ($((SECONDS - start)) s)"; }

echo "== exact references"
seconds "$apps/compute_fft_reference" "${system[@]}" --N 64 --L 8 --T 4 --dt 0.01 -o data/fft_ref_henon_heiles_d2.npz
seconds "$apps/compute_fft_reference" "${system[@]}" --N 64 --L 8 --T 50 --dt 0.01 -o /tmp/fft_henon_heiles_d2_T50.npz

common=("${system[@]}" --baseline trap --dt 0.01 --M 256 --hidden-dims 32 32 --lr 1e-3 --print-every 25
        --checkpoint-every 0 "$@")
stage() {  # stage NAME T EPOCHS [--resume FILE]
  local name=$1 T=$2 epochs=$3
  shift 3
  echo "== training stage $name: T=$T, $epochs epochs"
  seconds "$apps/train" "${common[@]}" --T "$T" --n-epochs "$epochs" \
    --checkpoint-path "checkpoints/henon_heiles_d2_$name.npz" "$@" | tee "data/logs/train_henon_heiles_d2_$name.log"
}
stage T1 1 200
stage T2 2 200 --resume checkpoints/henon_heiles_d2_T1.npz
cp checkpoints/henon_heiles_d2_T2.npz checkpoints/henon_heiles_d2.npz

echo "== learned against exact, out to t = 4 (trained to T = 2)"
evaluate=(--checkpoint checkpoints/henon_heiles_d2.npz --T 4 --M-test 20000)
seconds "$apps/benchmark_moments" "${evaluate[@]}" --fft-ref data/fft_ref_henon_heiles_d2.npz \
  --data-out data/moments_henon_heiles_d2.npz
seconds "$apps/autocorrelation" "${evaluate[@]}" --n-times 201 --fft-ref data/fft_ref_henon_heiles_d2.npz \
  --data-out data/autocorrelation_henon_heiles_d2.npz
range=(--E-min 0 --E-max 12 --n-E 1201)
"$apps/spectrum" --input data/autocorrelation_henon_heiles_d2.npz "${range[@]}" --output data/spectrum_learned_henon_heiles_d2.npz
"$apps/spectrum" --input data/fft_ref_henon_heiles_d2.npz "${range[@]}" --output data/spectrum_fft_henon_heiles_d2.npz
"$apps/spectrum" --input /tmp/fft_henon_heiles_d2_T50.npz "${range[@]}" --output data/spectrum_fft_henon_heiles_d2_T50.npz
/usr/bin/python3 scripts/plot_autocorrelation.py --learned data/autocorrelation_henon_heiles_d2.npz \
  --fft data/fft_ref_henon_heiles_d2.npz \
  --spectra data/spectrum_learned_henon_heiles_d2.npz data/spectrum_fft_henon_heiles_d2.npz \
  --output docs/autocorrelation_henon_heiles.png
