#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test
# (GoogleTest suites and the lit suite, which includes the import of every
# in-scope ONNX backend test model) through ctest, and prints one closing line
# with the number of test cases that passed and failed.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
scripts/build.sh || exit 1
BUILD=$(realpath -m "${LOOM_BUILD_DIR:-build}")
rm -rf "$BUILD/test-results"
ctest --test-dir "$BUILD" -j"$(nproc)" --output-on-failure --output-junit "$BUILD/test-results/ctest.xml" \
  --timeout 1500
status=$?
/usr/bin/python3 scripts/summarize_tests.py "$BUILD" || status=1
exit $status
