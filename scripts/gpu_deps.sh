#!/usr/bin/env bash
# Extracts the Debian packages a GPU machine without Debian's archive needs to
# build bohmflow against the PyTorch wheel's LibTorch (headers and libraries
# only: Eigen, FFTW, CLI11, GoogleTest, libzip, nlohmann-json, Boost's
# headers) into .device/deps (git-ignored), for scripts/check_gpu.sh.
# Run on a Debian 12 machine with the archive; carry .device/ to the GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.device/deps
packages=(libeigen3-dev libfftw3-dev libfftw3-double3 libfftw3-single3 libfftw3-long3 libfftw3-quad3
          libfftw3-bin libcli11-dev libgtest-dev libgmock-dev googletest libzip-dev libzip4
          nlohmann-json3-dev libboost1.74-dev zlib1g-dev libbz2-dev liblzma-dev libzstd-dev
          libssl-dev libgnutls28-dev nettle-dev)
mkdir -p "$out/debs"
(cd "$out/debs" && apt-get download "${packages[@]}")
for deb in "$out"/debs/*.deb; do dpkg -x "$deb" "$out/root"; done
echo "gpu_deps: extracted ${#packages[@]} packages into $out/root"
