#!/usr/bin/env bash
# Installs what is missing, builds, and compiles the bundled example model
# (examples/models/tiny_cnn.onnx, batch bound to 1) for the default target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD=${LOOM_BUILD_DIR:-build}
"$BUILD/bin/loomc" examples/models/tiny_cnn.onnx --dim batch=1 -o "$BUILD/demo-out"
