#!/usr/bin/env bash
# The CPU-sized training run of docs/training.md: the d=2 Morse chain (default
# parameters) trained to T = π, dt = 0.01 in three stages of growing T, each
# resuming the previous one (T is a training option, not part of the model).
# Logs go to data/logs/, the final checkpoint to checkpoints/morse_d2.npz.
#   scripts/train_morse_d2.sh [extra train_morse flags, e.g. --threads 2]
set -euo pipefail
cd "$(dirname "$0")/.."
train=build/apps/train_morse
mkdir -p data/logs checkpoints
common=(--d 2 --dt 0.01 --M 256 --hidden-dims 32 32 --lr 1e-3 --print-every 25 --checkpoint-every 0 "$@")
stage() {  # stage NAME T EPOCHS [--resume FILE]
  local name=$1 T=$2 epochs=$3
  shift 3
  echo "== stage $name: T=$T, $epochs epochs"
  "$train" "${common[@]}" --T "$T" --n-epochs "$epochs" \
    --checkpoint-path "checkpoints/morse_d2_$name.npz" "$@" | tee "data/logs/train_morse_d2_$name.log"
}
stage T0.8 0.8 300
stage T1.6 1.6 150 --resume checkpoints/morse_d2_T0.8.npz
stage Tpi 3.14159 300 --resume checkpoints/morse_d2_T1.6.npz
cp checkpoints/morse_d2_Tpi.npz checkpoints/morse_d2.npz
echo "final checkpoint: checkpoints/morse_d2.npz"
