#!/usr/bin/env bash
# Installs what bench/run.sh needs: onnxruntime-node (bench/ort/setup.sh) and
# python3-matplotlib (apt, for the PNG plots). Idempotent: installs only what
# is missing. Without root (or apt), the plots are skipped with a note.
set -uo pipefail
cd "$(dirname "$0")"
ort/setup.sh || exit 1
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bench/setup.sh: installing python3-matplotlib" >&2
    (apt-get install -y -q python3-matplotlib >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q python3-matplotlib >/dev/null 2>&1; }) ||
      echo "bench/setup.sh: apt-get install python3-matplotlib failed: plots will be skipped" >&2
  else
    echo "bench/setup.sh: python3-matplotlib missing (needs root: apt-get install -y python3-matplotlib): plots will be skipped" >&2
  fi
fi
exit 0
