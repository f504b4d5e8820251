#!/usr/bin/env bash
# Quantization accuracy on the model zoo: every --quantize mode on each
# model, the SQNR / max abs error / top-1 agreement loomc reports against
# the float model (measured on the model's test_data_set_0, which is also
# the calibration data), and where the int8 plan puts its quantized
# kernels on a SoC target. Prints a markdown table.
#
#   bash bench/quant/run.sh [--size tiny|small] [--target T] [--models a,b]
#   (LOOMC=path/to/loomc; default build/bin/loomc)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
LOOMC="${LOOMC:-$root/build/bin/loomc}"
size=small
target=ryzen-ai-300
models=gpt2,llama_prefill,llama_decode,whisper_encoder,vit,mobilenet,unet_block
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
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
