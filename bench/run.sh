#!/usr/bin/env bash
# Loom's benchmark: compile time, compile-time scaling, schedule quality,
# fusion, CPU run time and memory on the model zoo, against ONNX Runtime.
# Prints a markdown report (also bench/results/report.md) and writes
# bench/results/*.csv and *.png. The logic is in bench/run.py; this wrapper
# installs the dependencies (bench/setup.sh) and runs it.
#
# usage: bash bench/run.sh [--size tiny|small] [--repeat N] [--models a,b]
#                          [--sections 1,2,...] [--work DIR]
# env: LOOMC, LOOM_RUN (default build/bin/loomc, build/bin/loom-run),
#      NODE (node), TIMEOUT (seconds per command, default 900).
# See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/setup.sh
exec /usr/bin/python3 bench/run.py "$@"
