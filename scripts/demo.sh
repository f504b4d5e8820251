#!/usr/bin/env bash
# Installs what is missing, builds, compiles the bundled example model
# (examples/models/tiny_cnn.onnx, batch bound to 1) for the default target,
# and runs the plan with loom-run on seeded random inputs, printing its
# outputs and the latency over 20 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD=${LOOM_BUILD_DIR:-build}
# build/demo holds only loomc's output (loomc replaces it on the next run).
"$BUILD/bin/loomc" examples/models/tiny_cnn.onnx --dim batch=1 -o "$BUILD/demo"
"$BUILD/bin/loom-run" "$BUILD/demo" --random-inputs --repeat 20
