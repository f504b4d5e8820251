#!/usr/bin/env bash
# Installs every Debian package Loom needs to build and test (run as root on
# Debian 12). Installs nothing that is already there. chromium is for the
# tests that open report.html in a headless browser (skipped without it).
# clang-22 and libclang-rt-22-dev (libFuzzer, ASan, UBSan) build the fuzz
# harnesses that the test command runs under the sanitizers.
set -euo pipefail
PKGS=(cmake ninja-build g++ llvm-22-dev libmlir-22-dev mlir-22-tools
      libonnx-dev libprotobuf-dev protobuf-compiler libfmt-dev libgtest-dev
      libdnnl-dev nlohmann-json3-dev python3-onnx python3-numpy libonnx-testdata
      chromium clang-22 libclang-rt-22-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi
