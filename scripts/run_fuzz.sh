#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang into build-fuzz/ and
# fuzzes each for its share of SECONDS (default 60). Exits non-zero when a
# target finds a crash, a sanitizer report, a leak, a timeout or an OOM, and
# prints where the input was saved. Skips (exit 0) without clang or libFuzzer.
# See docs/fuzzing.md.
#
#   scripts/run_fuzz.sh [SECONDS]
#
# Environment: FUZZ_BUILD_DIR (build-fuzz), FUZZ_CXX (clang++),
# FUZZ_BUILD_JOBS (nproc), FUZZ_TARGETS ("npz checkpoint"), FUZZ_ARGS (extra
# libFuzzer flags, e.g. "-jobs=4 -workers=4").
set -euo pipefail
cd "$(dirname "$0")/.."

total=${1:-60}
if ! [[ $total =~ ^[0-9]+$ ]] || [ "$total" -lt 1 ]; then
  echo "usage: $0 [SECONDS]   (SECONDS: a positive integer, default 60)" >&2
  exit 2
fi
build=${FUZZ_BUILD_DIR:-build-fuzz}
cxx=${FUZZ_CXX:-clang++}

# ---- can this machine fuzz? ----------------------------------------------------------
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "run_fuzz: $cxx not found; skipping the fuzz targets (Debian: clang libclang-rt-14-dev llvm)"
  exit 0
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
  'extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }' > "$probe/probe.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" >/dev/null 2>&1; then
  echo "run_fuzz: $cxx cannot link -fsanitize=fuzzer,address,undefined; skipping (needs clang's libFuzzer; Debian: libclang-rt-14-dev)"
  exit 0
fi

# ---- build ---------------------------------------------------------------------------
start=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S tests/fuzz -B "$build" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
fi
cmake --build "$build" -j "${FUZZ_BUILD_JOBS:-$(nproc)}" >"$build/build.log" 2>&1 || {
  tail -n 40 "$build/build.log"
  echo "run_fuzz: the build failed (log: $build/build.log)" >&2
  exit 1
}
echo "run_fuzz: built in $(( $(date +%s) - start )) s ($build)"

targets=()
for name in ${FUZZ_TARGETS:-npz checkpoint}; do
  if [ -x "$build/${name}_fuzz" ]; then
    targets+=("$name")
  else
    echo "run_fuzz: $build/${name}_fuzz was not built (see the cmake warnings); skipping it"
  fi
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "run_fuzz: no target to run" >&2
  exit 1
fi

# ---- fuzz ----------------------------------------------------------------------------
# One thread each: LibTorch would otherwise spread every small input over all cores.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
share=$(( total / ${#targets[@]} ))
[ "$share" -ge 1 ] || share=1
mkdir -p "$build/crashes" "$build/logs"
failed=0
for name in "${targets[@]}"; do
  # Fuzz a copy: new inputs go to build/corpus-NAME (kept between runs, so
  # later runs start from what earlier ones found), never into the tree.
  corpus="$build/corpus-$name"
  mkdir -p "$corpus"
  for seed in tests/fuzz/corpus/"$name"/*; do
    [ -e "$corpus/$(basename "$seed")" ] || cp "$seed" "$corpus/"
  done
  log="$build/logs/$name.log"
  case $name in
    checkpoint) max_len=16384 ;;  # the seeds are up to ~11 kB
    *) max_len=8192 ;;
  esac
  echo "run_fuzz: ${name}_fuzz for ${share} s on $corpus ($(find "$corpus" -type f | wc -l) inputs)"
  rc=0
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  "$build/${name}_fuzz" -max_total_time="$share" -max_len="$max_len" -timeout=25 \
    -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" ${FUZZ_ARGS:-} \
    "$corpus" >"$log" 2>&1 || rc=$?
  grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 | sed "s/^/  /" || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" \
    | sed "s/^/  /" || true
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "run_fuzz: ${name}_fuzz FAILED (exit $rc); the end of its log ($log):" >&2
    grep -v -E '^(#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)|"|INFO:)' "$log" | tail -n 60 >&2
    saved=$(grep -o -E "Test unit written to [^ ]+" "$log" | sed 's/Test unit written to //' || true)
    for input in $saved; do
      echo "run_fuzz: the input is saved in $input; reproduce with: $build/${name}_fuzz $input" >&2
    done
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "run_fuzz: FAILED (docs/fuzzing.md: reproducing a finding)" >&2
  exit 1
fi
echo "run_fuzz: no findings in ${total} s"
