#!/usr/bin/env bash
# Quantization accuracy on the model zoo: every --quantize mode on each
# model, the SQNR / max abs error / top-1 agreement loomc reports against
# the float model (measured on the model's test_data_set_0, which is also
# the calibration data), and where the int8 plan puts its quantized
# kernels on a SoC target. Prints a markdown table. With --time, a second
# table: each model compiled for --target=host as the float plan and the
# int8 and dynamic plans, and the median of `loom-run --repeat 20` (1 thread).
#
#   bash bench/quant/run.sh [--size tiny|small] [--target T] [--models a,b] [--time]
#   (LOOMC=path/to/loomc, LOOM_RUN=path/to/loom-run; default build/bin/...)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
LOOMC="${LOOMC:-$root/build/bin/loomc}"
LOOM_RUN="${LOOM_RUN:-$root/build/bin/loom-run}"
size=small
target=ryzen-ai-300
models=gpt2,llama_prefill,llama_decode,whisper_encoder,vit,mobilenet,unet_block
time=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --time) time=1; shift ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/bench/models/gen_zoo.py" "$work/zoo" --size "$size" --quiet --only "$models"
echo "Quantization accuracy ($size zoo, $(date -u +%Y-%m-%d), $(nproc) cores; placement on $target)"
echo
echo "| model | mode | output | SQNR (dB) | max abs error | top-1 | quantized kernels | on NPU |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for m in ${models//,/ }; do
  for mode in w8 w4 int8 awq-w4 dynamic auto; do
    echo "  $m $mode" >&2
    out="$work/$m-$mode"
    if ! summary="$("$LOOMC" "$work/zoo/$m/model.onnx" -o "$out" --target="$target" \
          --quantize="$mode" --calibration-data="$work/zoo/$m" 2>&1)"; then
      echo "| $m | $mode | - | failed: $(echo "$summary" | head -1) | | | | |"
      continue
    fi
    kernels="$(echo "$summary" | sed -n 's/.*quantized: [^,]*, \([0-9]*\) quantized kernels.*/\1/p')"
    npu="$(/usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['tasks']; print(sum(1 for x in t if x.get('device')=='npu' and x.get('kernel') in ('qmatmul','qconv')))" "$out/plan.json")"
    echo "$summary" | sed -n 's/^    \([^:]*\): SQNR \([-0-9.inf]*\) dB, max abs error \([^,]*\)\(, top-1 agreement \(.*\)\)\{0,1\}$/\1|\2|\3|\5/p' |
      while IFS='|' read -r name sqnr err top1; do
        echo "| $m | $mode | $name | $sqnr | $err | ${top1:--} | $kernels | $npu |"
      done
  done
done
[ "$time" = 1 ] || exit 0

# Run time on this machine: median of 20 runs after a warm-up, the inputs
# bound from test_data_set_0 by name.
echo
echo "Run time on this machine (--target=host, loom-run --repeat 20, 1 thread; median ms)"
echo
echo "| model | float | int8 | dynamic |"
echo "| --- | --- | --- | --- |"
for m in ${models//,/ }; do
  row="| $m |"
  inputs="$(/usr/bin/python3 -c "
import glob, onnx, sys
for f in sorted(glob.glob(sys.argv[1] + '/input_*.pb')):
    t = onnx.TensorProto()
    t.ParseFromString(open(f, 'rb').read())
    print('--input', t.name + '=' + f)" "$work/zoo/$m/test_data_set_0")"
  for mode in float int8 dynamic; do
    echo "  $m $mode (time)" >&2
    out="$work/$m-host-$mode"
    quant=()
    [ "$mode" = float ] || quant=(--quantize="$mode" --calibration-data="$work/zoo/$m")
    if ! "$LOOMC" "$work/zoo/$m/model.onnx" -o "$out" --target=host "${quant[@]}" >/dev/null 2>&1; then
      row+=" compile failed |"
      continue
    fi
    # shellcheck disable=SC2086
    log="$("$LOOM_RUN" "$out" $inputs --repeat 20 --quiet 2>&1)" || true
    median="$(echo "$log" | sed -n 's/^latency over [0-9]* runs: median \([0-9.]*\) ms.*/\1/p')"
    if [ -z "$median" ]; then
      row+=" run failed |"
    else
      row+=" $median |"
    fi
  done
  echo "$row"
done
