#!/usr/bin/env bash
# Kernel counts of Loom's fusion against ONNX Runtime, on the model zoo
# (bench/models/gen_zoo.py).
#
# For each model: its ONNX node count; the node count of ONNX Runtime's
# optimized graph at 'extended' (a fused ORT op counts as one node); Loom's
# kernels per inference (tasks of kind "kernel" in plan.json of
# `loomc MODEL --target=host`) at the default -O1 and at -O0, and the ratio
# Loom -O1 / ORT. Both Loom plans also run (loom-run) on the model's
# test_data_set_0 inputs, and their outputs must match (fusion must not
# change results). Prints a markdown table and the goals, and writes
# bench/results/fusion.csv.
#
# usage: bench/fusion/run.sh [--size tiny|small] [--only NAME[,NAME...]]
#                            [--work DIR] [--csv FILE]
#   --size   zoo size (default small, the benchmark size; tiny for a quick run)
#   --only   models to measure (default: all of gen_zoo.py --list)
#   --work   keep the zoo, the plans and the logs in DIR (default: a
#            temporary folder, removed at the end)
#   --csv    where to write the CSV (default bench/results/fusion.csv)
# env: LOOMC, LOOM_RUN (default build/bin/loomc, build/bin/loom-run),
#      PYTHON (default /usr/bin/python3: needs onnx and numpy), NODE (node),
#      TIMEOUT (seconds one loomc, loom-run or ORT command may take; default
#      600: a command past it is reported as a timeout and the run goes on).
#
# Not part of the test suite (it is a benchmark: it takes minutes at
# --size small); test/Fusion/zoo.test is the CI-size check.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PYTHON=${PYTHON:-/usr/bin/python3}
NODE=${NODE:-node}
TIMEOUT=${TIMEOUT:-600}
HELPER="$PYTHON $ROOT/bench/fusion/kernel_counts.py"

size=small only="" work="" csv=bench/results/fusion.csv
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --size=*) size=${1#*=}; shift ;;
    --only) only=$2; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    --work) work=$2; shift 2 ;;
    --work=*) work=${1#*=}; shift ;;
    --csv) csv=$2; shift 2 ;;
    --csv=*) csv=${1#*=}; shift ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
LOOMC=$(realpath -m "${LOOMC:-build/bin/loomc}")
LOOM_RUN=$(realpath -m "${LOOM_RUN:-build/bin/loom-run}")
for tool in "$LOOMC" "$LOOM_RUN"; do
  [ -x "$tool" ] || { echo "run.sh: $tool is not built (set LOOMC / LOOM_RUN)" >&2; exit 2; }
done

if [ -z "$work" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
work=$(realpath "$work")

bench/ort/setup.sh || exit 1
echo "generating the zoo (--size $size) in $work/zoo" >&2
$PYTHON bench/models/gen_zoo.py "$work/zoo" --size "$size" ${only:+--only "$only"} --quiet || exit 1
if [ -n "$only" ]; then models=${only//,/ }; else models=$($PYTHON bench/models/gen_zoo.py --list); fi

rows=$work/rows.tsv
printf 'model\tonnx_nodes\tort_nodes\tloom_O0\tloom_O1\tO0_vs_O1\tloomc_O1_s\tort_session_ms\n' > "$rows"
failures=()
for m in $models; do
  echo "== $m" >&2
  model=$work/zoo/$m/model.onnx
  data=$work/zoo/$m/test_data_set_0
  out=$work/$m
  mkdir -p "$out"
  onnx_nodes=$($HELPER nodes "$model")

  ort_nodes=error ort_ms=-
  if json=$(timeout "$TIMEOUT" $NODE bench/ort/optimize.js "$model" "$out/ort.onnx" --level extended 2>"$out/ort.log"); then
    ort_nodes=$($HELPER nodes "$out/ort.onnx")
    ort_ms=$(echo "$json" | sed -n 's/.*"session_ms": *\([0-9.]*\).*/\1/p')
  else
    failures+=("$m: onnxruntime: $(tail -n 3 "$out/ort.log")")
  fi

  declare -A k=() ran=()
  secs=-
  for o in O0 O1; do
    start=$(date +%s%N)
    timeout "$TIMEOUT" "$LOOMC" "$model" -o "$out/$o" -$o --target=host --quiet >"$out/loomc-$o.log" 2>&1
    rc=$?
    [ $rc = 124 ] && echo "loomc: timed out after ${TIMEOUT}s" >>"$out/loomc-$o.log"
    if [ $rc = 0 ]; then
      [ $o = O1 ] && secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
      k[$o]=$($HELPER kernels "$out/$o")
      # shellcheck disable=SC2046
      if timeout "$TIMEOUT" "$LOOM_RUN" "$out/$o" $($HELPER input-args "$data") --output-dir "$out/$o-out" --quiet \
          >"$out/loom-run-$o.log" 2>&1; then
        ran[$o]=1
      else
        failures+=("$m -$o: loom-run: $(tail -n 3 "$out/loom-run-$o.log")")
      fi
    else
      if [ $rc = 124 ]; then k[$o]="timeout"; else k[$o]="compile error"; fi
      failures+=("$m -$o: loomc: $(tail -n 3 "$out/loomc-$o.log")")
    fi
  done
  if [ -n "${ran[O0]:-}" ] && [ -n "${ran[O1]:-}" ]; then
    same=$($HELPER compare "$out/O1-out" "$out/O0-out" 1e-3 1e-4)
  else
    same="not run"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$onnx_nodes" "$ort_nodes" "${k[O0]}" "${k[O1]}" \
    "$same" "$secs" "$ort_ms" >> "$rows"
  unset k ran
done

echo
echo "Fusion: kernels per inference, Loom ($(basename "$LOOMC") --target=host) vs ONNX Runtime $(
  $NODE -e "console.log(require('./bench/ort/node_modules/onnxruntime-node/package.json').version)") (CPU, extended), zoo --size $size"
echo
$HELPER report "$rows" "$csv"
if [ ${#failures[@]} -gt 0 ]; then
  echo
  echo "Failures:"
  for f in "${failures[@]}"; do echo "- ${f//$'\n'/ }"; done
fi
echo
echo "CSV: $csv"
