#!/usr/bin/env bash
# Configures and builds Loom into ${LOOM_BUILD_DIR:-build} (Release, Ninja).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${LOOM_BUILD_DIR:-build}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_BUILD_COMPILER=ON
cmake --build "$BUILD" -j"$(nproc)"
