#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test
# (GoogleTest suites and the lit suite, which includes the import of every
# in-scope ONNX backend test model) through ctest, and prints one closing line
# with the number of test cases that passed and failed.
set -uo pipefail
cd "$(dirname "$0")/.."
# A run that cannot build still ends with the closing line.
scripts/install-deps.sh || { echo "0 passed, 1 failed, 0 skipped (installing the dependencies failed)"; exit 1; }
scripts/build.sh || { echo "0 passed, 1 failed, 0 skipped (the build failed)"; exit 1; }
BUILD=$(realpath -m "${LOOM_BUILD_DIR:-build}")
# Only this run's results count: remove the last run's, and stamp the start
# so that summarize_tests.py treats any older result file as missing.
rm -rf "$BUILD/test-results" "$BUILD/test/lit-results.xml"
mkdir -p "$BUILD/test-results"
touch "$BUILD/test-results/started"
ctest --test-dir "$BUILD" -j"$(nproc)" --output-on-failure --output-junit "$BUILD/test-results/ctest.xml" \
  --timeout 1500
status=$?
/usr/bin/python3 scripts/summarize_tests.py "$BUILD" --ctest-status "$status" \
  --since "$BUILD/test-results/started" || status=1
exit $status
