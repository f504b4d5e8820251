#!/usr/bin/env bash
# Fuzzing Loom with the libFuzzer harnesses of fuzz/ (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)

usage() {
  cat <<'EOF'
Usage: scripts/fuzz.sh [MODE] [OPTIONS]

Builds the libFuzzer harnesses (clang-22, ASan + UBSan; scripts/build.sh
--fuzz) where they are missing, and runs them.

Modes (one; default --campaign):
  --campaign      fuzz each harness from its seed corpus for --time seconds
                  or --runs executions; whatever it finds (crash, leak,
                  timeout, out-of-memory) is minimized (-minimize_crash=1),
                  deduplicated by its sanitizer summary into FINDINGS/HARNESS/,
                  and the corpus is merged (-merge=1) into WORK/corpus/HARNESS;
                  per-harness figures go to WORK/campaign.tsv
  --mutants N     write N structure-aware ONNX mutants (fuzz/mutate_onnx.py,
                  seeds: test/Import/Inputs and the ONNX backend test models)
                  and run each once through loom-fuzz-import; the ones that
                  fail are copied to FINDINGS/mutants/
  --regressions   run every regression input once through its harness:
                  test/*/Inputs/fuzz/ (import; the ones named in the
                  reproducers' table with flags again with those flags) and
                  fuzz/regressions/HARNESS/; any sanitizer report fails
  --smoke         --campaign from the seed corpora only, for --time seconds
                  per harness (default 10), fixed random seed, corpus in a
                  temporary folder; anything found fails (exit 1)
  --seeds DIR     only write the seed corpora to DIR/HARNESS/

Options:
  --build DIR       the fuzz build (default build-fuzz)
  --harness LIST    comma-separated subset of: import, import-text, plan,
                    target, scenario, tensor (default all)
  --time SECONDS    seconds per harness (campaign default 60)
  --runs N          executions per harness (instead of --time)
  --work DIR        corpora, logs and figures (default BUILD/fuzz-work)
  --findings DIR    minimized findings (default WORK/findings)
  --seed N          libFuzzer / mutator random seed (default 1)
  -h, --help        this text

Exit status: 0 when nothing was found, 1 when something was (or a
regression input fails), 2 on a usage error.
EOF
}

MODE=campaign
BUILD=build-fuzz
HARNESSES=import,import-text,plan,target,scenario,tensor
TIME=
RUNS=
WORK=
FINDINGS=
SEED=1
MUTANTS=0
SEEDS_OUT=
while [ $# -gt 0 ]; do
  case "$1" in
    --campaign) MODE=campaign ;;
    --mutants) MODE=mutants; MUTANTS=${2:?--mutants needs a count}; shift ;;
    --regressions) MODE=regressions ;;
    --smoke) MODE=smoke ;;
    --seeds) MODE=seeds; SEEDS_OUT=${2:?--seeds needs a folder}; shift ;;
    --build) BUILD=${2:?}; shift ;;
    --harness) HARNESSES=${2:?}; shift ;;
    --time) TIME=${2:?}; shift ;;
    --runs) RUNS=${2:?}; shift ;;
    --work) WORK=${2:?}; shift ;;
    --findings) FINDINGS=${2:?}; shift ;;
    --seed) SEED=${2:?}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for h in ${HARNESSES//,/ }; do
  case "$h" in
    import|import-text|plan|target|scenario|tensor) ;;
    *) echo "fuzz.sh: unknown harness '$h' (see --help)" >&2; exit 2 ;;
  esac
done
BUILD=$(realpath -m "$BUILD")
WORK=$(realpath -m "${WORK:-$BUILD/fuzz-work}")
FINDINGS=$(realpath -m "${FINDINGS:-$WORK/findings}")
# Leak checking stays on: Loom's own allocations must be freed. ASan's
# default abort on the first error, and UBSan's (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Writes the seed corpora under $1/HARNESS/ from the repository's test data,
# the ONNX backend test models and the committed seeds of fuzz/seeds/.
write_seeds() {
  local out=$1 f n
  rm -rf "$out"
  mkdir -p "$out"/{import,import-text,plan,target,scenario,tensor}
  n=0
  while IFS= read -r f; do
    n=$((n + 1)); cp "$f" "$out/import/$(printf '%05d' $n).onnx"
  done < <(find test/Import/Inputs fuzz/regressions/import /usr/share/libonnx-testdata/data/node \
             -name '*.onnx' -size -256k 2>/dev/null | sort)
  n=0
  while IFS= read -r f; do
    n=$((n + 1)); cp "$f" "$out/import-text/$(printf '%05d' $n).onnxtext"
  done < <(find test fuzz/regressions/import-text -name '*.onnxtext' 2>/dev/null | sort)
  cp fuzz/seeds/plan/* fuzz/regressions/plan/* "$out/plan/" 2>/dev/null || true
  for f in targets/*.yaml test/Dialect/Plan/Inputs/*.yaml test/Quant/Inputs/*.yaml \
           fuzz/regressions/target/*; do
    [ -f "$f" ] && cp "$f" "$out/target/$(basename "$f")"
  done
  for f in scenarios/*.yaml test/Scenario/Inputs/*.yaml fuzz/regressions/scenario/*; do
    [ -f "$f" ] && cp "$f" "$out/scenario/$(basename "$f")"
  done
  n=0
  while IFS= read -r f; do
    n=$((n + 1)); cp "$f" "$out/tensor/$(printf '%05d' $n).pb"
  done < <(find /usr/share/libonnx-testdata/data/node fuzz/regressions/tensor -name '*.pb' \
             -size -8k 2>/dev/null | sort | awk 'NR % 8 == 1')
}

if [ "$MODE" = seeds ]; then
  write_seeds "$(realpath -m "$SEEDS_OUT")"
  exit 0
fi

# The harnesses: build them where missing (an existing build is used as is).
need_build=0
for h in ${HARNESSES//,/ }; do
  [ -x "$BUILD/bin/loom-fuzz-$h" ] || need_build=1
done
if [ $need_build = 1 ]; then
  LOOM_BUILD_DIR="$BUILD" scripts/build.sh --fuzz >&2
fi

# Runs every file of the regression folders once through its harness.
run_regressions() {
  local fail=0 h dir files
  for h in ${HARNESSES//,/ }; do
    files=()
    for dir in fuzz/regressions/$h; do
      [ -d "$dir" ] && while IFS= read -r f; do files+=("$f"); done < <(find "$dir" -type f | sort)
    done
    if [ "$h" = import ]; then
      while IFS= read -r f; do files+=("$f"); done < <(find test/*/Inputs/fuzz -name '*.onnx' | sort)
    fi
    [ ${#files[@]} -gt 0 ] || continue
    echo "fuzz.sh: $h: ${#files[@]} regression input(s)"
    "$BUILD/bin/loom-fuzz-$h" -timeout=60 "${files[@]}" >"$WORK/regressions-$h.log" 2>&1 ||
      { fail=1; echo "fuzz.sh: $h: a regression input failed:"; grep -E "ERROR|SUMMARY|Running" "$WORK/regressions-$h.log" | tail -20; }
    if [ "$h" = import ]; then
      # The reproducers that crashed only with these flags (their README).
      "$BUILD/bin/loom-fuzz-import" -timeout=60 test/Import/Inputs/fuzz/0[79]_*.onnx \
        test/Import/Inputs/fuzz/10_*.onnx -ignore_remaining_args=1 \
        --const-input=trip_count=5 --const-input=cond=1 >"$WORK/regressions-import-flags.log" 2>&1 ||
        { fail=1; echo "fuzz.sh: import with --const-input: a regression input failed:";
          grep -E "ERROR|SUMMARY|Running" "$WORK/regressions-import-flags.log" | tail -20; }
    fi
  done
  return $fail
}

# Minimizes each artifact of $2 (harness $1) into FINDINGS/$1/, one per
# distinct sanitizer summary line.
minimize_findings() {
  local h=$1 dir=$2 a sig key min
  mkdir -p "$FINDINGS/$h"
  for a in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* "$dir"/slow-unit-*; do
    [ -f "$a" ] || continue
    min="$dir/min-$(basename "$a")"
    "$BUILD/bin/loom-fuzz-$h" -minimize_crash=1 -runs=20000 -timeout=30 \
      -exact_artifact_path="$min" "$a" >"$a.minimize.log" 2>&1 || true
    [ -f "$min" ] || cp "$a" "$min"
    if "$BUILD/bin/loom-fuzz-$h" -timeout=30 "$min" >/dev/null 2>&1; then
      echo "fuzz.sh: $h: $(basename "$a") does not fail when run again (a slow or flaky unit?)"
      continue
    fi
    sig=$("$BUILD/bin/loom-fuzz-$h" -timeout=30 "$min" 2>&1 | grep -m1 -E "SUMMARY|ERROR: libFuzzer" || true)
    key=$(printf '%s' "${sig:-$(basename "$a")}" | sha1sum | cut -c1-12)
    if [ ! -f "$FINDINGS/$h/$key" ]; then
      cp "$min" "$FINDINGS/$h/$key"
      printf '%s\t%s\n' "$key" "${sig:-no sanitizer summary}" >>"$FINDINGS/$h/index.tsv"
      echo "fuzz.sh: $h: finding $FINDINGS/$h/$key: ${sig:-no sanitizer summary}"
    fi
  done
}

# One libFuzzer run of harness $1 on corpus $2 (seeds $3); figures appended to
# $WORK/campaign.tsv. Returns 1 when it found something.
fuzz_one() {
  local h=$1 corpus=$2 seeds=$3 art="$WORK/artifacts/$1" log="$WORK/$1.log" limit rc=0
  rm -rf "$art"
  mkdir -p "$corpus" "$art"
  if [ -n "$RUNS" ]; then limit="-runs=$RUNS"; else limit="-max_total_time=${TIME:-60}"; fi
  local t0 t1
  t0=$(date +%s.%N)
  "$BUILD/bin/loom-fuzz-$h" "$limit" -seed="$SEED" -timeout=10 -rss_limit_mb=4096 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/" "$corpus" "$seeds" \
    >"$log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  local execs cov ft secs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{ printf "%.1f", b - a }')
  local found
  found=$(find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
            -o -name 'oom-*' \) | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$h" "${execs:-?}" "$secs" \
    "$(awk -v e="${execs:-0}" -v s="$secs" 'BEGIN{ if (s > 0) printf "%.0f", e / s; else print "?" }')" \
    "${cov:-?}" "${ft:-?}" "$found" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$WORK/campaign.tsv"
  echo "fuzz.sh: $h: ${execs:-?} executions in ${secs%.*} s, cov ${cov:-?}, ft ${ft:-?}, $found finding(s) (log: $log)"
  if [ "$found" -gt 0 ] || { [ $rc -ne 0 ] && [ -z "$execs" ]; }; then
    grep -E "SUMMARY|ERROR" "$log" | head -5
    minimize_findings "$h" "$art"
    return 1
  fi
  return 0
}

mkdir -p "$WORK"
case "$MODE" in
  regressions)
    run_regressions
    ;;
  smoke)
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/loom-fuzz-smoke.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    write_seeds "$tmp/seeds"
    WORK=$tmp/work FINDINGS=$tmp/work/findings TIME=${TIME:-10} RUNS=
    mkdir -p "$WORK"
    fail=0
    for h in ${HARNESSES//,/ }; do
      fuzz_one "$h" "$tmp/corpus/$h" "$tmp/seeds/$h" || fail=1
    done
    [ $fail = 0 ] || { echo "fuzz.sh: the smoke run found something:"; cat "$FINDINGS"/*/index.tsv 2>/dev/null; }
    exit $fail
    ;;
  campaign)
    write_seeds "$WORK/seeds"
    [ -f "$WORK/campaign.tsv" ] ||
      printf 'harness\texecutions\tseconds\texec_per_s\tcov\tft\tfindings\tdate\n' >"$WORK/campaign.tsv"
    fail=0
    for h in ${HARNESSES//,/ }; do
      fuzz_one "$h" "$WORK/corpus/$h" "$WORK/seeds/$h" || fail=1
      # Keep the corpus small: only the inputs that add coverage.
      rm -rf "$WORK/corpus/$h.merged"; mkdir -p "$WORK/corpus/$h.merged"
      "$BUILD/bin/loom-fuzz-$h" -merge=1 -max_len=65536 -timeout=10 "$WORK/corpus/$h.merged" \
        "$WORK/corpus/$h" >"$WORK/$h.merge.log" 2>&1 &&
        { rm -rf "$WORK/corpus/$h"; mv "$WORK/corpus/$h.merged" "$WORK/corpus/$h"; } ||
        rm -rf "$WORK/corpus/$h.merged"
    done
    echo "fuzz.sh: figures in $WORK/campaign.tsv; findings (if any) in $FINDINGS"
    exit $fail
    ;;
  mutants)
    dir="$WORK/mutants"
    rm -rf "$dir"
    /usr/bin/python3 fuzz/mutate_onnx.py --out "$dir" --count "$MUTANTS" --seed "$SEED" \
      test/Import/Inputs /usr/share/libonnx-testdata/data/node
    t0=$(date +%s.%N)
    # Batches of files, each run once in process. libFuzzer stops at the
    # first failing file (the last one it names "Running:"): that one is
    # kept, and the batch goes on from the next.
    fail=0
    ls "$dir" | sed "s|^|$dir/|" | split -l 2000 - "$WORK/mutant-batch."
    for b in "$WORK"/mutant-batch.*; do
      while [ -s "$b" ]; do
        # (exit 255 makes xargs stop at the failing invocation)
        if xargs -a "$b" sh -c '"$0" "$@" || exit 255' "$BUILD/bin/loom-fuzz-import" \
             -timeout=30 -rss_limit_mb=4096 >"$b.log" 2>&1; then
          break
        fi
        f=$(sed -n 's/^Running: //p' "$b.log" | tail -1)
        [ -n "$f" ] || { fail=1; echo "fuzz.sh: loom-fuzz-import failed on no input:"; tail -5 "$b.log"; break; }
        fail=1; mkdir -p "$FINDINGS/mutants"; cp "$f" "$FINDINGS/mutants/"
        echo "fuzz.sh: mutant $(basename "$f"): $(grep -m1 -E 'SUMMARY|ERROR' "$b.log")"
        sed -i "1,\|^$f\$|d" "$b"
      done
      rm -f "$b" "$b.log"
    done
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{ printf "%.1f", b - a }')
    printf 'mutants\t%s\t%s\t%s\t-\t-\t%s\t%s\n' "$MUTANTS" "$secs" \
      "$(awk -v e="$MUTANTS" -v s="$secs" 'BEGIN{ printf "%.0f", e / s }')" \
      "$(ls "$FINDINGS/mutants" 2>/dev/null | wc -l)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$WORK/campaign.tsv"
    echo "fuzz.sh: $MUTANTS mutants in ${secs%.*} s; failures (if any) in $FINDINGS/mutants"
    exit $fail
    ;;
esac
