#!/usr/bin/env bash
# Installs the Debian packages bohmflow needs, skipping those already present.
# Run as root (or with sudo available) on Debian 12.
set -euo pipefail

packages=(
  g++ cmake make ccache pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libopenblas0-openmp     # optimised BLAS behind libtorch (reference BLAS is ~10x slower)
  libgloo-dev             # headers for ProcessGroupGloo (CPU data parallelism)
  libboost-dev            # Boost.Random's Sobol generator (quasi-Monte Carlo moments)
  libeigen3-dev libfftw3-dev libcli11-dev libgtest-dev libzip-dev nlohmann-json3-dev
  python3-numpy python3-matplotlib   # /usr/bin/python3 plotting and numpy round-trip tests
  python3-torch                      # scripts/systems/*.py write TorchScript potentials (matches libtorch-dev)
  time                               # /usr/bin/time -v in the benchmarks
  clang libclang-rt-14-dev llvm      # libFuzzer and the sanitizers for scripts/run_fuzz.sh (llvm: llvm-symbolizer)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install_deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
