#!/usr/bin/env bash
# The worked example of docs/systems.md: the Hénon–Heiles chain at d = 2 written
# in Python (scripts/systems/henon_heiles.py), its exact reference through a
# table of V (tabulate_potential, compute_fft_reference --potential-grid), a
# training run of the scripted system to T = 2 (the recipe of
# scripts/henon_heiles_d2.sh), and its moments against the reference to t = 4.
#   scripts/henon_heiles_script_d2.sh [extra train flags, e.g. --threads 2]
set -euo pipefail
cd "$(dirname "$0")/.."
apps=build/apps
mkdir -p data/logs checkpoints
seconds() { local start=$SECONDS; "$@"; echo "   ($((SECONDS - start)) s)"; }

echo "== the module, written by Python"
seconds /usr/bin/python3 scripts/systems/henon_heiles.py -o data/henon_heiles.pt
# ψ₀ = Π exp(−(q_k − 2)²/2): |ψ₀|² has mean 2 and σ = 1/√2 (the default) on both axes.
system=(--potential script --potential-file data/henon_heiles.pt --d 2 --initial-mean 2)

echo "== V on the grid, and the exact reference to t = 4"
seconds "$apps/tabulate_potential" "${system[@]}" --N 64 --L 8 -o data/grid_henon_heiles_d2.npz
seconds "$apps/compute_fft_reference" --potential-grid data/grid_henon_heiles_d2.npz --T 4 --dt 0.01 \
  -o data/fft_ref_script_henon_heiles_d2.npz

# The default baseline (minimum): Newton finds q = 0, where ∇²V = 1, the built-in run's trap ½|q|².
common=("${system[@]}" --dt 0.01 --M 256 --hidden-dims 32 32 --lr 1e-3 --print-every 25 --checkpoint-every 0 "$@")
stage() {  # stage NAME T EPOCHS [--resume FILE]
  local name=$1 T=$2 epochs=$3
  shift 3
  echo "== training stage $name: T=$T, $epochs epochs"
  seconds "$apps/train" "${common[@]}" --T "$T" --n-epochs "$epochs" \
    --checkpoint-path "checkpoints/script_henon_heiles_d2_$name.npz" "$@" \
    | tee "data/logs/train_script_henon_heiles_d2_$name.log"
}
stage T1 1 200
stage T2 2 200 --resume checkpoints/script_henon_heiles_d2_T1.npz

echo "== learned against exact moments, out to t = 4 (trained to T = 2); the checkpoint holds the module"
seconds "$apps/fig4_moments" --checkpoint checkpoints/script_henon_heiles_d2_T2.npz \
  --fft-ref data/fft_ref_script_henon_heiles_d2.npz --M-test 20000 --n-times 201 \
  --data-out data/moments_script_henon_heiles_d2.npz
/usr/bin/python3 - <<'PY'
import numpy as np
m = np.load('data/moments_script_henon_heiles_d2.npz')
t, fft_t = m['t_learn'], m['fft_t']
rows = [int(np.argmin(abs(fft_t - s))) for s in t]
for name, learned, exact in [('means', m['learned_means'], m['fft_means']),
                             ('widths', m['learned_sigmas'], m['fft_sigmas'])]:
    error = abs(learned - exact[rows]).max(axis=1)
    bad = np.nonzero(error > 0.02)[0]
    last = t[bad[0] - 1] if len(bad) else t[-1]
    print(f'{name}: within 0.02 of the reference to t = {last:.2f}; max error to t = 2: '
          f'{error[t <= 2 + 1e-9].max():.4f}, to t = 4: {error.max():.4f}')
PY
/usr/bin/python3 scripts/plot_fig4.py --data data/moments_script_henon_heiles_d2.npz --output docs/systems_henon_heiles.png
