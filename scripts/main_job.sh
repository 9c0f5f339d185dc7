#!/usr/bin/env bash
# README command 1: install what is missing, build in Release, then regenerate
# the project's data and figures on their defaults. Work already done (a data
# file that exists) is skipped; delete the file to regenerate it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
APPS="${BUILD_DIR:-build}/apps"
mkdir -p data figures

# Split-operator FFT reference of the d = 4 Morse chain (about 2 minutes on 2 cores).
if [ ! -f data/fft_ref_morse_d4.npz ]; then
  "$APPS/compute_fft_reference" -o data/fft_ref_morse_d4.npz
else
  echo "main_job: data/fft_ref_morse_d4.npz exists, skipped"
fi

# The same for the d = 2 chain of the CPU-sized training run (under a second).
if [ ! -f data/fft_ref_morse_d2.npz ]; then
  "$APPS/compute_fft_reference" --d 2 --N 128 --L 8 -o data/fft_ref_morse_d2.npz
else
  echo "main_job: data/fft_ref_morse_d2.npz exists, skipped"
fi

# Exact Bohmian trajectories in the double well (Figure 1).
if [ ! -f data/fig1_doublewell.npz ]; then
  "$APPS/fig1_doublewell" -o data/fig1_doublewell.npz
else
  echo "main_job: data/fig1_doublewell.npz exists, skipped"
fi

PY=/usr/bin/python3
$PY scripts/plot_fig1.py --data data/fig1_doublewell.npz --output figures/fig1_doublewell.png

# Figure 2: the schematic of the training loop (no data).
$PY scripts/plot_fig2.py --output figures/fig2_framework.png

# Figure 3: training curves, from data/fig3_training.npz (extract_training_log).
# The shipped one is the d = 2 run (scripts/train_morse_d2.sh), so E_exact comes
# from the d = 2 FFT reference. Set TRAINING_LOGS="run_a.log run_b.log" (oldest
# first) to extract it here, and FIG3_FFT_REF to the reference of that run.
if [ -n "${TRAINING_LOGS:-}" ]; then
  # shellcheck disable=SC2086  # a list of files
  "$APPS/extract_training_log" -o data/fig3_training.npz $TRAINING_LOGS
fi
if [ -f data/fig3_training.npz ]; then
  $PY scripts/plot_fig3.py --data data/fig3_training.npz --fft-ref "${FIG3_FFT_REF:-data/fft_ref_morse_d2.npz}" \
      --output figures/fig3_training.png
else
  echo "main_job: data/fig3_training.npz missing (no training log extracted yet; set TRAINING_LOGS): Figure 3 skipped"
fi

# Figure 4: the imported reference network's moments against the FFT reference
# (data/fig4_moments.npz is shipped; recomputing it takes about 4 minutes).
if [ ! -f data/fig4_moments.npz ]; then
  "$APPS/fig4_moments" --checkpoint checkpoints/morse_d4.npz --fft-ref data/fft_ref_morse_d4.npz \
      --M-test 20000 --data-out data/fig4_moments.npz
else
  echo "main_job: data/fig4_moments.npz exists, skipped"
fi
$PY scripts/plot_fig4.py --data data/fig4_moments.npz --output figures/fig4_moments.png

# Figure 5: the learned score on the (x0, x1) slice over the exact density.
# data/fig5_score_data.npz is shipped; without it, the psi snapshots at t = 0
# and pi (data/psi_morse_d4.npz, 537 MB, not shipped) are made first
# (about 2-5 minutes), then the score is evaluated (seconds).
if [ ! -f data/fig5_score_data.npz ]; then
  if [ ! -f data/psi_morse_d4.npz ]; then
    "$APPS/compute_fft_reference" -o data/psi_morse_d4_moments.npz \
        --save-psi-at 0.0 3.14159 --psi-out data/psi_morse_d4.npz
  fi
  "$APPS/score_field" --checkpoint checkpoints/morse_d4.npz --psi data/psi_morse_d4.npz \
      --times 0.0 3.14159 --dims 0 1 --float32 --data-out data/fig5_score_data.npz
else
  echo "main_job: data/fig5_score_data.npz exists, skipped"
fi
$PY scripts/plot_fig5.py --data data/fig5_score_data.npz --output figures/fig5_score_field.png

# The peer benchmarks (scripts/benchmark.sh writes data/benchmarks/*.npz) and the
# cost against d (bench_core); replotted from the shipped NPZ files.
$PY scripts/plot_benchmarks.py --output figures/benchmarks.png
$PY scripts/plot_scaling.py --fft-seconds 2=2e-4 3=4.8e-3 4=0.82 --output figures/scaling.png

echo "main_job: figures written:" figures/*.png
