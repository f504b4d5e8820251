#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test
# (GoogleTest suites and the lit suite, which includes the import of every
# in-scope ONNX backend test model) through ctest, and prints one closing line
# with the number of test cases that passed and failed.
#
# It also builds the libFuzzer harnesses with ASan + UBSan (build-fuzz, or
# LOOM_FUZZ_BUILD_DIR) and runs, under the sanitizers, every fuzz regression
# input and a short fuzzing run per harness (docs/fuzzing.md).
#   --sanitize  also builds the whole project with ASan + UBSan (build-asan,
#               or LOOM_ASAN_BUILD_DIR) and runs the whole suite there too
set -uo pipefail
cd "$(dirname "$0")/.."
SANITIZE=0
case "${1:-}" in
  "") ;;
  --sanitize) SANITIZE=1 ;;
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "test.sh: unknown argument '$1' (--sanitize or --help)" >&2; exit 2 ;;
esac
# A run that cannot build still ends with the closing line.
scripts/install-deps.sh || { echo "0 passed, 1 failed, 0 skipped (installing the dependencies failed)"; exit 1; }
scripts/build.sh || { echo "0 passed, 1 failed, 0 skipped (the build failed)"; exit 1; }
BUILD=$(realpath -m "${LOOM_BUILD_DIR:-build}")
FUZZ_BUILD=$(realpath -m "${LOOM_FUZZ_BUILD_DIR:-build-fuzz}")
ASAN_BUILD=$(realpath -m "${LOOM_ASAN_BUILD_DIR:-build-asan}")
LOOM_BUILD_DIR="$FUZZ_BUILD" scripts/build.sh --fuzz ||
  { echo "0 passed, 1 failed, 0 skipped (the sanitizer build of the fuzz harnesses failed)"; exit 1; }
if [ $SANITIZE = 1 ]; then
  LOOM_BUILD_DIR="$ASAN_BUILD" scripts/build.sh --sanitize ||
    { echo "0 passed, 1 failed, 0 skipped (the sanitizer build failed)"; exit 1; }
fi
# Only this run's results count: remove the last run's, and stamp the start
# so that summarize_tests.py treats any older result file as missing.
for b in "$BUILD" "$FUZZ_BUILD" "$ASAN_BUILD"; do
  rm -rf "$b/test-results" "$b/test/lit-results.xml"
done
mkdir -p "$BUILD/test-results" "$FUZZ_BUILD/test-results"
touch "$BUILD/test-results/started"
ctest --test-dir "$BUILD" -j"$(nproc)" --output-on-failure --output-junit "$BUILD/test-results/ctest.xml" \
  --timeout 1500
status=$?
# The sanitizer tests of the fuzz build (fuzz/CMakeLists.txt), one at a time:
# each fuzzes on every core it is given.
ctest --test-dir "$FUZZ_BUILD" -R '^fuzz-' --output-on-failure \
  --output-junit "$FUZZ_BUILD/test-results/ctest.xml" --timeout 1500
also=(--also "$FUZZ_BUILD:$?")
if [ $SANITIZE = 1 ]; then
  mkdir -p "$ASAN_BUILD/test-results"
  ctest --test-dir "$ASAN_BUILD" -j"$(nproc)" --output-on-failure \
    --output-junit "$ASAN_BUILD/test-results/ctest.xml" --timeout 3000
  also+=(--also "$ASAN_BUILD:$?")
fi
/usr/bin/python3 scripts/summarize_tests.py "$BUILD" --ctest-status "$status" \
  --since "$BUILD/test-results/started" "${also[@]}" || status=1
exit $status
