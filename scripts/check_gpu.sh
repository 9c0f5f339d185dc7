#!/usr/bin/env bash
# The GPU check: on a machine whose LibTorch has CUDA (the PyTorch wheel's),
# configure and build bohmflow into build-gpu/, run the test suite, then print
# one table of timings: bench_core on cuda against cpu (float64 and float32),
# one epoch of the paper's settings on one GPU, fig4_moments --M-test 20000 on
# the GPU, and with two or more GPUs a 2-rank NCCL run against 1 rank.
#
#   scripts/gpu_deps.sh          # once, on a Debian machine: .device/deps
#   scripts/check_gpu.sh         # on the GPU machine (carry .device/)
# Budget: under 9 minutes on one H100/H200-class GPU (16 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
torch_prefix=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
deps=${BOHMFLOW_DEPS:-$PWD/.device/deps/root/usr}
export LD_LIBRARY_PATH="$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
build=build-gpu
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBOHMFLOW_USE_PCH=OFF \
        -DCMAKE_PREFIX_PATH="$torch_prefix;$deps" -DCMAKE_INCLUDE_PATH="$deps/include" \
        -DCMAKE_LIBRARY_PATH="$deps/lib/x86_64-linux-gnu"
fi
cmake --build "$build" -j "$(nproc)"
(cd "$build" && ctest -j "$(nproc)" --timeout 600 --output-on-failure) | tail -5
apps=$build/apps
echo
echo "## bench_core, loss + gradient over 11 steps (s), and inference particle-steps/s"
for dtype in float64 float32; do
  for device in cuda cpu; do
    Ms="512 5000"; [ "$device" = cpu ] && Ms="512"
    "$apps/bench_core" --device "$device" --dtype "$dtype" --d 2 4 8 --M $Ms --T 0.1 | grep -E '^\||on '
  done
done
echo
echo "## one epoch of the paper's settings (d = 4, M = 5000, 128x128, T = pi, float64) on one GPU"
/usr/bin/time -f "wall %e s" "$apps/train_morse" --device cuda --d 4 --M 5000 --T 3.14159 --n-epochs 1 \
  --print-every 1 --checkpoint-every 0 --checkpoint-path "$build/check_gpu_epoch.npz" 2>&1 | grep -E 'Epoch|wall|complete'
echo
echo "## fig4_moments --M-test 20000 on the GPU"
if [ -f data/fft_ref_morse_d4.npz ]; then
  /usr/bin/time -f "wall %e s" "$apps/fig4_moments" --device cuda --M-test 20000 \
    --data-out "$build/check_gpu_fig4.npz" 2>&1 | tail -3
else
  echo "(data/fft_ref_morse_d4.npz missing: compute_fft_reference --d 4 --N 64 --L 8.0 --T 3.14159 --dt 0.01 -o data/fft_ref_morse_d4.npz)"
fi
gpus=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
if [ "$gpus" -ge 2 ]; then
  echo
  echo "## 2 NCCL ranks against 1 rank, 3 epochs (parameters must agree to 1e-10)"
  flags="--d 2 --T 0.2 --M 64 --hidden-dims 32 32 --n-freq 2 --n-epochs 3 --lr-patience 0 --seed 3"
  "$apps/train_morse" $flags --checkpoint-path "$build/nccl_1.npz" > "$build/nccl_1.log"
  for rank in 0 1; do
    RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29533 \
      "$apps/train_morse" $flags --checkpoint-path "$build/nccl_2.npz" > "$build/nccl_2_$rank.log" &
  done
  wait
  "$PY" - "$build/nccl_1.npz" "$build/nccl_2.npz" <<'PYEOF'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
gap = max(np.abs(a[k] - b[k]).max() / max(np.abs(a[k]).max(), 1e-300) for k in a.files if k.startswith("params/"))
print(f"max relative parameter gap: {gap:.3e} ({'ok' if gap < 1e-10 else 'FAIL'})")
PYEOF
fi
