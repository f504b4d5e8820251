#!/usr/bin/env bash
# Installs what is missing, builds, compiles the bundled example model
# (examples/models/tiny_cnn.onnx, batch bound to 1) for the default target,
# and runs the plan with loom-run on a random input.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD=${LOOM_BUILD_DIR:-build}
# build/demo holds only loomc's output (loomc replaces it on the next run);
# the input and the outputs go next to it.
"$BUILD/bin/loomc" examples/models/tiny_cnn.onnx --dim batch=1 -o "$BUILD/demo"
mkdir -p "$BUILD/demo-data"
/usr/bin/python3 -c "
import numpy as np
from onnx import numpy_helper
x = np.random.default_rng(0).standard_normal((1, 3, 32, 32), dtype=np.float32)
open('$BUILD/demo-data/image.pb', 'wb').write(numpy_helper.from_array(x, 'image').SerializeToString())"
"$BUILD/bin/loom-run" "$BUILD/demo" --input image="$BUILD/demo-data/image.pb" \
  --output-dir "$BUILD/demo-outputs" --repeat 20
