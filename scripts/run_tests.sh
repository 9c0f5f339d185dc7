#!/usr/bin/env bash
# README command 2: install what is missing, build, run the whole test suite, then
# fuzz the file readers for a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "$(nproc)")
# The NPZ reader and the checkpoint loader under libFuzzer for 60 s (docs/fuzzing.md).
scripts/run_fuzz.sh 60
