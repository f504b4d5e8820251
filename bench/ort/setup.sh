#!/usr/bin/env bash
# Installs bench/ort's dependencies (onnxruntime-node, CPU) from
# package-lock.json with `npm ci`. Idempotent and quiet: does nothing when
# node_modules was installed from the same lock file (a stamp holding the
# lock file's checksum). The CUDA binaries that onnxruntime-node's install
# script would download are skipped (ONNXRUNTIME_NODE_INSTALL=skip): the CPU
# provider ships inside the npm package.
set -euo pipefail
cd "$(dirname "$0")"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.loom-setup-stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d node_modules/onnxruntime-node ]; then
  exit 0
fi
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 ||
  { echo "bench/ort/setup.sh: npm ci failed; run it by hand: (cd bench/ort && npm ci)" >&2; exit 1; }
echo "$want" > "$stamp"
