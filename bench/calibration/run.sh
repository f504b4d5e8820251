#!/usr/bin/env bash
# Calibration accuracy of the host target: for each model, compile for the
# host, profile the plan's kernels (loom-profile), compile again with the
# measured table (--cost-table), run with loom-run --repeat 50, and print
# the plan's predicted makespan against the measured median (and the
# uncalibrated prediction from targets/host.yaml's round figures). The goal
# is a calibrated prediction within 25% of the measurement.
#
# Timing needs a quiet machine: this is a benchmark, not part of the test
# suite. Usage: bench/calibration/run.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build}")/bin
HERE=bench/calibration
INPUTS=test/Tools/loom-profile/Inputs
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

measure() { # NAME MODEL INPUT_FLAG LOOMC_FLAGS...
  local name=$1 model=$2 input=$3
  shift 3
  "$BIN/loomc" "$model" --target=host -o "$OUT/$name.0" --quiet "$@"
  "$BIN/loom-profile" "$OUT/$name.0" -o "$OUT/$name.json" --repeat 50 $input --quiet
  "$BIN/loomc" "$model" --target=host -o "$OUT/$name.1" --quiet --cost-table="$OUT/$name.json" "$@"
  echo "== $name"
  /usr/bin/python3 "$HERE/check_latency.py" "$OUT/$name.1" --runner "$BIN/loom-run" \
    --repeat 50 $input --uncalibrated "$OUT/$name.0" || true
}

/usr/bin/python3 -c "import numpy as np; from onnx import numpy_helper as nh; open('$OUT/image.pb','wb').write(nh.from_array(np.random.default_rng(0).standard_normal((1,3,32,32)).astype(np.float32)).SerializeToString())"
measure tiny_cnn examples/models/tiny_cnn.onnx "--input image=$OUT/image.pb" --dim batch=1

/usr/bin/python3 "$INPUTS/make_mlp.py" "$OUT/mlp.onnx" --layers 6 --batch 64 --width 512
/usr/bin/python3 -c "import numpy as np; from onnx import numpy_helper as nh; open('$OUT/x.pb','wb').write(nh.from_array(np.random.default_rng(0).standard_normal((64,512)).astype(np.float32)).SerializeToString())"
measure mlp "$OUT/mlp.onnx" "--input x=$OUT/x.pb"
