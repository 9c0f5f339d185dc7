#!/usr/bin/env bash
# Downloads the Debian packages a GPU machine without Debian's archive needs to
# build bohmflow against the PyTorch wheel's LibTorch, into .device/debs
# (git-ignored, about 18 MB): headers and libraries of Eigen, FFTW, CLI11,
# GoogleTest, libzip, nlohmann-json and Boost, and libzip's run-time
# libraries for machines that lack them. scripts/check_gpu.sh unpacks them.
# Run on a Debian 12 machine with the archive; carry .device/debs to the GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
build=(libeigen3-dev libfftw3-dev libfftw3-double3 libcli11-dev libgtest-dev libgmock-dev
       libzip-dev libzip4 nlohmann-json3-dev libboost1.74-dev)
runtime=(libgnutls30 libnettle8 libhogweed6 libp11-kit0 libidn2-0 libunistring2 libtasn1-6 libgmp10)
mkdir -p .device/debs/build .device/debs/runtime
(cd .device/debs/build && apt-get download "${build[@]}")
(cd .device/debs/runtime && apt-get download "${runtime[@]}")
echo "gpu_deps: $(ls .device/debs/build | wc -l) build and $(ls .device/debs/runtime | wc -l) run-time packages in .device/debs ($(du -sh .device/debs | cut -f1))"
