#!/usr/bin/env bash
# Configures and builds Loom into ${LOOM_BUILD_DIR:-build} (Release, Ninja).
#   --sanitize  the whole project with ASan + UBSan (LOOM_SANITIZE=ON) into
#               ${LOOM_BUILD_DIR:-build-asan}, with clang-22 where installed
#   --fuzz      the libFuzzer harnesses of fuzz/ and what they link (clang-22,
#               LOOM_BUILD_FUZZERS=ON, ASan + UBSan) into
#               ${LOOM_BUILD_DIR:-build-fuzz}; the rest of the project is
#               configured there but not built
# (docs/fuzzing.md). LOOM_BUILD_JOBS sets the parallel jobs (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=release
case "${1:-}" in
  "") ;;
  --sanitize) MODE=sanitize ;;
  --fuzz) MODE=fuzz ;;
  *) echo "build.sh: unknown argument '$1' (--sanitize or --fuzz)" >&2; exit 2 ;;
esac
JOBS=${LOOM_BUILD_JOBS:-$(nproc)}
case "$MODE" in
  release)
    BUILD=${LOOM_BUILD_DIR:-build}
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_BUILD_COMPILER=ON
    cmake --build "$BUILD" -j"$JOBS"
    ;;
  sanitize)
    BUILD=${LOOM_BUILD_DIR:-build-asan}
    compilers=()
    command -v clang++-22 >/dev/null &&
      compilers=(-DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22)
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_BUILD_COMPILER=ON \
      -DLOOM_SANITIZE=ON "${compilers[@]}"
    cmake --build "$BUILD" -j"$JOBS"
    ;;
  fuzz)
    BUILD=${LOOM_BUILD_DIR:-build-fuzz}
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_BUILD_COMPILER=ON \
      -DLOOM_BUILD_FUZZERS=ON -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22
    cmake --build "$BUILD" -j"$JOBS" --target loom-fuzzers
    ;;
esac
