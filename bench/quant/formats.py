#!/usr/bin/python3
"""Speed and size of the packed weight formats on the zoo's transformers.

    formats.py [--size tiny|small] [--models a,b] [--modes m1,m2]
               [--repeat N] [--zoo DIR]
    (LOOMC=path/to/loomc, LOOM_RUN=path/to/loom-run; default build/bin/...)

For each model and mode (float, int8, w8, w4, ternary, and w8/w4/ternary
with --sparsity=2:4, written MODE+2:4), compiles the model for
--target=host (--group-size 128; int8 calibrated on the model's
test_data_set_0), then reports:
  - the size of weights.bin,
  - the bits per weight of the qmatmul weights (their buffers' bytes * 8
    over their logical elements; scales not counted),
  - the median and the minimum of `loom-run --repeat N` (1 thread, inputs
    from test_data_set_0), and the median's ratio to the w4 plan's (on a
    busy machine the minimum is the steadier figure).
Progress goes to stderr, the markdown table to stdout. Timing needs a quiet
machine: this is a benchmark, not a test.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LOOMC = os.environ.get("LOOMC", os.path.join(ROOT, "build/bin/loomc"))
LOOM_RUN = os.environ.get("LOOM_RUN", os.path.join(ROOT, "build/bin/loom-run"))
# llama_wide_decode's weights are int8 already (its file would pass 2 GB in
# f32): its 4-layer f32 form stands for it.
TRANSFORMERS = ["gpt2", "llama_prefill", "llama_decode", "llama_wide4_decode",
                "whisper_encoder", "vit"]
MODES = ["float", "int8", "w8", "w4", "ternary", "w8+2:4", "w4+2:4", "ternary+2:4"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def flags(mode, model_dir):
    if mode == "float":
        return []
    base, _, sparse = mode.partition("+")
    f = ["--quantize=" + base, "--group-size=128"]
    if sparse:
        f.append("--sparsity=" + sparse)
    if base == "int8":
        f.append("--calibration-data=" + model_dir)
    return f


def input_flags(model_dir):
    import onnx  # noqa: E402 (only /usr/bin/python3 has it)
    out = []
    for f in sorted(glob.glob(os.path.join(model_dir, "test_data_set_0", "input_*.pb"))):
        t = onnx.TensorProto()
        with open(f, "rb") as fh:
            t.ParseFromString(fh.read())
        out += ["--input", "%s=%s" % (t.name, f)]
    return out


def weight_bits(plan_dir):
    """Bits per logical weight over the plan's qmatmul weight buffers."""
    p = json.load(open(os.path.join(plan_dir, "plan.json")))
    nbytes = elems = 0
    for t in p["tasks"]:
        if t.get("kernel") != "qmatmul":
            continue
        buf = p["buffers"][t["inputs"][3]]
        size = 1
        for d in buf["shape"]:
            size *= d
        shape = t.get("attrs", {}).get("w_shape", {}).get("ints", buf["shape"])
        n = 1
        for d in shape:
            n *= d
        nbytes += size
        elems += n
    return 8.0 * nbytes / elems if elems else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="small", choices=["tiny", "small"])
    ap.add_argument("--models", default=",".join(TRANSFORMERS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--zoo", help="an existing gen_zoo.py output folder (default: generate one)")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    modes = [m for m in args.modes.split(",") if m]
    work = tempfile.mkdtemp(prefix="loom-formats-")
    load = os.getloadavg()[0]
    zoo = args.zoo
    if not zoo:
        zoo = os.path.join(work, "zoo")
        log("generating the %s zoo (%s)" % (args.size, ", ".join(models)))
        subprocess.run([sys.executable, os.path.join(ROOT, "bench/models/gen_zoo.py"), zoo,
                        "--size", args.size, "--quiet", "--only", ",".join(models)], check=True)
    rows = []
    for m in models:
        model_dir = os.path.join(zoo, m)
        inputs = input_flags(model_dir)
        w4_ms = None
        for mode in modes:
            out = os.path.join(work, "%s-%s" % (m, mode.replace(":", "_").replace("+", "-")))
            log("  %s %s" % (m, mode))
            c = subprocess.run([LOOMC, os.path.join(model_dir, "model.onnx"), "-o", out,
                                "--target=host", "--quiet"] + flags(mode, model_dir),
                               capture_output=True, text=True)
            if c.returncode != 0:
                rows.append((m, mode, "compile failed: " + c.stderr.strip().splitlines()[0]))
                continue
            size = os.path.getsize(os.path.join(out, "weights.bin"))
            bits = weight_bits(out)
            r = subprocess.run([LOOM_RUN, out, "--repeat", str(args.repeat), "--threads", "1",
                                "--quiet"] + inputs, capture_output=True, text=True)
            med = re.search(r"median ([0-9.]+) ms, min ([0-9.]+) ms", r.stdout + r.stderr)
            ms = float(med.group(1)) if med else None
            least = float(med.group(2)) if med else None
            if mode == "w4":
                w4_ms = ms
            rows.append((m, mode, size, bits, ms, least))
            subprocess.run(["rm", "-rf", out])
        # The ratio to w4 once the model's w4 time is known.
        rows = [r if len(r) != 6 or r[0] != m else r + (w4_ms,) for r in rows]
    print("Packed weight formats on the %s zoo (%s, %s, %d cores, --target=host, "
          "loom-run --repeat %d, 1 thread; load average %.1f at the start)"
          % (args.size, datetime.date.today().isoformat(), platform.machine(), os.cpu_count(),
             args.repeat, load))
    print()
    print("| model | mode | weights.bin (MB) | bits per qmatmul weight | median ms | min ms "
          "| median vs w4 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if len(r) == 3:
            print("| %s | %s | %s | | | | |" % r)
            continue
        m, mode, size, bits, ms, least = r[:6]
        w4 = r[6] if len(r) > 6 else None
        print("| %s | %s | %.2f | %s | %s | %s | %s |" % (
            m, mode, size / 1e6, "%.2f" % bits if bits else "-",
            "%.3f" % ms if ms is not None else "run failed",
            "%.3f" % least if least is not None else "-",
            "%.2fx" % (ms / w4) if ms and w4 else "-"))
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
