#!/usr/bin/python3
"""Predicted placement of a decoder's prefill and decode on the SoC targets.

For each decoder (Hugging Face Optimum layout, as `loomc --generate` takes)
and each built-in SoC target, compiles the two shapes a generation program
runs, a prefill chunk of N tokens and a decode step of one, after a cache of
C positions, with plain `loomc --target=T` (the same compile as one context
of the program), and tabulates the cost model's predictions from loomc's
summary and the plan: makespan, lower bound, best single device and the
speed-up over it, and each device's share of the busy time. These are
predictions of targets/*.yaml's cost model, not measurements.

usage: soc_split.py [--models llama_hf_wide_op17,gpt2_hf_wide_op17]
           [--corpus bench/models/real/out] [--chunk 128] [--contexts 512,2048]
           [--targets ryzen-ai-300,snapdragon-x-elite,apple-m4,intel-lunar-lake]
           [--out DIR]
Needs LOOMC (default build/bin/loomc).
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SOCS = "ryzen-ai-300,snapdragon-x-elite,apple-m4,intel-lunar-lake"
PREDICTED = re.compile(r"predicted:\s+([0-9.]+) us \(lower bound ([0-9.]+) us; best single device "
                       r"(\S+) ([0-9.]+) us, speed-up ([0-9.]+)x\)")


def cache_inputs(path):
    """(name, heads, head size) of each past_key_values input."""
    import onnx
    out = []
    for i in onnx.load(path, load_external_data=False).graph.input:
        if i.name.startswith("past_key_values."):
            d = i.type.tensor_type.shape.dim
            out.append((i.name, d[1].dim_value, d[3].dim_value))
    return out


def compile_shape(loomc, model, target, n, c, out):
    shapes = ["input_ids=1x%d" % n, "attention_mask=1x%d" % (c + n), "position_ids=1x%d" % n]
    shapes += ["%s=1x%dx%dx%d" % (name, h, c, d) for name, h, d in cache_inputs(model)]
    cmd = [loomc, model, "-o", out, "--target", target, "--emit=plan"]
    for s in shapes:
        cmd += ["--input-shape", s]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"
    m = PREDICTED.search(r.stdout)
    plan = json.load(open(os.path.join(out, "plan.json")))
    busy = {}
    for t in plan["tasks"]:
        if t.get("kind") == "kernel":
            busy[t["device"]] = busy.get(t["device"], 0.0) + t["end_us"] - t["start_us"]
    total = sum(busy.values()) or 1.0
    share = ", ".join("%s %.0f%%" % (d, 100 * busy[d] / total) for d in sorted(busy))
    if not m:  # a one-device target prints no comparison
        return (plan["makespan_us"], plan["lower_bound_us"], "-", None, None, share), None
    return (float(m.group(1)), float(m.group(2)), m.group(3), float(m.group(4)),
            float(m.group(5)), share), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="llama_hf_wide_op17,gpt2_hf_wide_op17")
    ap.add_argument("--corpus", default=os.path.join(ROOT, "bench/models/real/out"))
    ap.add_argument("--chunk", type=int, default=128)
    ap.add_argument("--contexts", default="512,2048")
    ap.add_argument("--targets", default=SOCS)
    ap.add_argument("--out", default="/tmp/loom-soc-split")
    a = ap.parse_args()
    loomc = os.environ.get("LOOMC", os.path.join(ROOT, "build/bin/loomc"))
    print("| model | target | run | makespan us | lower bound us | best single device us "
          "| speed-up | busy time by device |")
    print("| --- | --- | --- | ---: | ---: | --- | ---: | --- |")
    bad = 0
    for model in a.models.split(","):
        path = os.path.join(a.corpus, model, "model.onnx")
        for target in a.targets.split(","):
            for c in [int(x) for x in a.contexts.split(",")]:
                for kind, n in (("prefill %d" % a.chunk, a.chunk), ("decode", 1)):
                    print("[soc] %s %s %s, context %d" % (model, target, kind, c), file=sys.stderr)
                    out = os.path.join(a.out, "%s-%s-%d-%d" % (model, target, n, c))
                    res, why = compile_shape(loomc, path, target, n, c, out)
                    run = "%s, context %d" % (kind, c)
                    if not res:
                        bad += 1
                        print("| %s | %s | %s | failed: %s | | | | |" % (model, target, run, why))
                        continue
                    mk, lb, dev, single, sp, share = res
                    print("| %s | %s | %s | %.0f | %.0f | %s | %s | %s |" % (
                        model, target, run, mk, lb,
                        "%s %.0f" % (dev, single) if single else dev,
                        "%.2fx" % sp if sp else "-", share))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
