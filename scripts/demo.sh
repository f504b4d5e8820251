#!/usr/bin/env bash
# Installs what is missing, builds, compiles the bundled example model
# (examples/models/tiny_cnn.onnx, batch bound to 1) for the default target,
# and runs the plan with loom-run on a random input.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD=${LOOM_BUILD_DIR:-build}
"$BUILD/bin/loomc" examples/models/tiny_cnn.onnx --dim batch=1 -o "$BUILD/demo-out"
/usr/bin/python3 -c "
import numpy as np
from onnx import numpy_helper
x = np.random.default_rng(0).standard_normal((1, 3, 32, 32), dtype=np.float32)
open('$BUILD/demo-out/image.pb', 'wb').write(numpy_helper.from_array(x, 'image').SerializeToString())"
"$BUILD/bin/loom-run" "$BUILD/demo-out" --input image="$BUILD/demo-out/image.pb" \
  --output-dir "$BUILD/demo-out/outputs" --repeat 20
