#!/usr/bin/env bash
# Fits a device whose kernels are a library (bench/calibration/fake_device.c:
# each kernel busy-waits 40 us + bytes at 2 GB/s) through
# `loom-profile --calibrate --device gpu --device-library`, and prints the
# fitted model: dispatch ~ 40 us (the fixed part every family shares),
# each family's fixed_us ~ 0, gbs ~ 2, and no compute term (gops 0, or so
# large that it is negligible). Busy-waiting is wall-clock time, so a
# loaded machine adds noise: a benchmark, not a test.
# Usage: bench/calibration/fake_device.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build}")/bin
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cc -O2 -shared -fPIC -Iinclude bench/calibration/fake_device.c -o "$OUT/fake_device.so"
uptime
for only in relu conv_k3_s1_g1 softmax; do
  "$BIN/loom-profile" --calibrate bench/calibration/fake-device-target.yaml \
    --device gpu --device-library "$OUT/fake_device.so" --only "$only" \
    -o "$OUT/fitted.yaml" 2>/dev/null | grep -v "^  wrote"
done
