#!/usr/bin/env bash
# The GPU check: on a machine whose LibTorch has CUDA (the PyTorch wheel's),
# build bohmflow into build-gpu/ and, within a deadline, in this order:
#   1. the same 3 training epochs on cuda and on cpu (float64; float32 on cuda;
#      the Morse chain as a TorchScript potential on cuda), whose parameters must agree;
#   2. the test suite;
#   3. one epoch of the paper's settings on the GPU (the loss's --chunk auto),
#      bench_core on cuda and cpu, fig4_moments and autocorrelation with
#      20 000 particles on the GPU;
#   4. with two or more GPUs, 2 NCCL ranks against 1 rank.
# Each stage prints its exit status and seconds; logs go to $OUT (or
# build-gpu/out).
#
#   scripts/gpu_deps.sh                      # once, on a Debian machine: .device/debs
#   CHECK_GPU_DEADLINE_S=540 scripts/check_gpu.sh   # on the GPU machine (carry .device/debs)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
build=build-gpu
out=${OUT:-$build/out}
mkdir -p "$out"
deadline=$(( $(date +%s) + ${CHECK_GPU_DEADLINE_S:-540} ))
exec > >(tee -a "$out/check_gpu.log") 2>&1

# stage NAME LIMIT_S COMMAND...: runs COMMAND for at most LIMIT_S seconds and
# never past the deadline.
stage() {
  local name=$1 limit=$2; shift 2
  local left=$(( deadline - $(date +%s) ))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -le 5 ]; then echo "## $name: skipped (deadline)"; return 0; fi
  echo "## $name (at most ${limit} s)"
  local start=$(date +%s)
  timeout "$limit" "$@"
  local rc=$?
  echo "## $name: rc $rc, $(( $(date +%s) - start )) s"
  return 0
}

echo "## machine"
nvidia-smi -L 2>&1 | head -4
g++ --version | head -1; cmake --version | head -1; nproc
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "devices", torch.cuda.device_count())'
torch_prefix=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
torch_root=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
echo "gloo headers in the wheel: $(ls -d "$torch_root"/include/gloo 2>/dev/null || echo none)"
nccl_header=$(find "$torch_root/.." -name nccl.h -path '*nvidia*' 2>/dev/null | head -1)
echo "nccl.h: ${nccl_header:-none}"

deps=$PWD/.device/root
if [ ! -d "$deps" ]; then
  for deb in .device/debs/build/*.deb; do dpkg -x "$deb" "$deps"; done
fi
export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
if ! ldconfig -p | grep -q 'libgnutls.so.30 '; then
  for deb in .device/debs/runtime/*.deb; do dpkg -x "$deb" "$PWD/.device/runtime"; done
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$PWD/.device/runtime/usr/lib/x86_64-linux-gnu"
  echo "libzip's run-time libraries: Debian's, from .device/debs/runtime"
fi

nccl_flag=()
[ -n "$nccl_header" ] && nccl_flag=(-DNCCL_INCLUDE_DIR="$(dirname "$nccl_header")")
generator=(); command -v ninja > /dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  stage configure 120 cmake "${generator[@]}" -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBOHMFLOW_USE_PCH=OFF \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" "${nccl_flag[@]}"
fi
keep_going=(); [ ${#generator[@]} -gt 0 ] && keep_going=(-- -k 0)
stage build 420 sh -c "cmake --build $build -j $(nproc) ${keep_going[*]} > $out/build.log 2>&1"
grep -E "error|Error" "$out/build.log" | head -40
apps=$build/apps
[ -x "$apps/train" ] || { echo "## no train binary: stopping"; exit 1; }

echo
echo "## 1. the same training on cuda and cpu"
flags=(--d 2 --T 0.2 --M 64 --hidden-dims 32 32 --n-freq 2 --n-epochs 3 --lr-patience 0 --seed 3
       --checkpoint-every 0 --print-every 1)
stage train-cpu 60 "$apps/train" "${flags[@]}" --device cpu --checkpoint-path "$out/same_cpu.npz"
stage train-cuda 60 "$apps/train" "${flags[@]}" --device cuda --checkpoint-path "$out/same_cuda.npz"
stage train-cuda-float32 60 "$apps/train" "${flags[@]}" --device cuda --dtype float32 \
  --checkpoint-path "$out/same_cuda32.npz"
# The Morse chain written in Python (its ψ₀ at d = 2: mean (1, 0), σ = 1/√2, the default).
stage train-cuda-script 60 "$apps/train" "${flags[@]}" --device cuda --potential script \
  --potential-file tests/data/systems/morse_chain.pt --initial-mean 1 0 --checkpoint-path "$out/same_cuda_script.npz"
"$PY" - "$out" <<'PYEOF'
import sys, numpy as np
d = sys.argv[1]
def gap(x, y):
    a, b = np.load(f"{d}/{x}"), np.load(f"{d}/{y}")
    keys = [k for k in a.files if k.startswith("params/")]
    return max(np.abs(a[k] - b[k]).max() / max(np.abs(a[k]).max(), 1e-300) for k in keys), len(keys)
for y, tol in (("same_cuda.npz", 1e-9), ("same_cuda32.npz", 1e-3), ("same_cuda_script.npz", 1e-9)):
    try:
        g, n = gap("same_cpu.npz", y)
        print(f"cpu float64 against {y}: max relative parameter gap {g:.3e} over {n} arrays "
              f"({'ok' if g < tol else 'FAIL'}, tolerance {tol:g})")
    except Exception as e:
        print(f"cpu against {y}: {e}")
PYEOF

echo
echo "## 2. the test suite"
stage ctest 180 sh -c "cd $build && OMP_NUM_THREADS=2 ctest -j $(nproc) --timeout 170 --output-on-failure > $out/ctest.log 2>&1"
grep -E "tests passed|tests failed|\*\*\*Failed|Timeout|Not Run" "$out/ctest.log" | head -30

echo
echo "## 3. one epoch of the paper's settings (d = 4, M = 5000, 128x128, T = pi, float64) on one GPU"
stage paper-epoch 120 "$apps/train" --device cuda --d 4 --M 5000 --T 3.14159 --n-epochs 1 --print-every 1 \
  --checkpoint-every 0 --checkpoint-path "$out/paper_epoch.npz"
echo "## bench_core: loss + gradient over the T = 0.1 steps (s) and inference particle-steps/s"
stage bench-cuda-float64 90 "$apps/bench_core" --device cuda --dtype float64 --d 2 4 8 --M 512 5000 --T 0.1
stage bench-cuda-chunk256 60 "$apps/bench_core" --device cuda --d 4 --M 5000 --T 0.1 --chunk 256
stage bench-cuda-float32 60 "$apps/bench_core" --device cuda --dtype float32 --d 4 --M 512 5000 --T 0.1
stage bench-cpu-float64 60 "$apps/bench_core" --device cpu --d 2 4 --M 512 --T 0.1
stage fig4-cuda 90 "$apps/fig4_moments" --device cuda --M-test 20000 --data-out "$out/fig4_cuda.npz"
stage autocorrelation-cuda 120 "$apps/autocorrelation" --device cuda --checkpoint checkpoints/morse_d4.npz \
  --M-test 20000 --n-times 315 --fft-ref data/fft_ref_morse_d4.npz --data-out "$out/autocorrelation_cuda.npz"

gpus=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
if [ "$gpus" -ge 2 ]; then
  echo
  echo "## 4. 2 NCCL ranks against 1 rank, 3 epochs"
  stage nccl-1 60 "$apps/train" "${flags[@]}" --device cuda --checkpoint-path "$out/nccl_1.npz"
  for rank in 0 1; do
    RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29533 \
      timeout 60 "$apps/train" "${flags[@]}" --checkpoint-path "$out/nccl_2.npz" > "$out/nccl_2_$rank.log" 2>&1 &
  done
  wait
  "$PY" -c "import numpy as np; a,b=np.load('$out/nccl_1.npz'),np.load('$out/nccl_2.npz'); print('NCCL 2 ranks against 1: max gap', max(abs(a[k]-b[k]).max() for k in a.files if k.startswith('params/')))"
fi
echo "## done"
