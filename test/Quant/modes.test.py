"""Drives test/Quant/modes.test and swiglu.test: compiles with loomc, runs
with loom-run, checks reported against recomputed SQNR, the NPU placement
and the kernels SwiGLUs become."""
import glob
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
from onnx import numpy_helper
import onnx

FLOORS = {"w8": 30, "dynamic": 30, "int8": 20, "auto": 20, "w4": 8, "awq-w4": 8}


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p.stdout


def reported(summary):
    """{output: sqnr} from loomc's summary."""
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^\s+(\S+): SQNR (-?[0-9.]+|inf) dB", summary, re.M)}


def outputs(loomrun, plan, data, out):
    args = []
    model_inputs = sorted(glob.glob(os.path.join(data, "input_*.pb")))
    for f in model_inputs:
        t = onnx.TensorProto()
        t.ParseFromString(open(f, "rb").read())
        args += ["--input", "%s=%s" % (t.name, f)]
    run([loomrun, plan] + args + ["--output-dir", out, "--quiet"])
    # loom-run writes output_<i>.pb in the plan's output order.
    names = [o["name"] for o in json.load(open(os.path.join(plan, "plan.json")))["outputs"]]
    res = {}
    for i, name in enumerate(names):
        t = onnx.TensorProto()
        t.ParseFromString(open(os.path.join(out, "output_%d.pb" % i), "rb").read())
        res[name] = numpy_helper.to_array(t).astype(np.float64)
    return res


def sqnr(ref, got):
    noise = np.sum((ref - got) ** 2)
    return math.inf if noise == 0 else 10 * math.log10(np.sum(ref ** 2) / noise)


def modes(loomc, loomrun, t):
    for model in ["gpt2", "mobilenet"]:
        src = os.path.join(t, "zoo", model)
        data = os.path.join(src, "test_data_set_0")
        run([loomc, os.path.join(src, "model.onnx"), "-o", os.path.join(t, model + "-f"),
             "--target=host", "--quiet"])
        ref = outputs(loomrun, os.path.join(t, model + "-f"), data, os.path.join(t, model + "-f-out"))
        for mode in ["w8", "w4", "int8", "awq-w4", "dynamic", "auto"]:
            plan = os.path.join(t, "%s-%s" % (model, mode))
            summary = run([loomc, os.path.join(src, "model.onnx"), "-o", plan, "--target=host",
                           "--quantize=" + mode, "--calibration-data=" + src])
            rep = reported(summary)
            got = outputs(loomrun, plan, data, plan + "-out")
            problems = []
            for name, r in ref.items():
                s = sqnr(r, got[name])
                if name not in rep:
                    problems.append("%s: no SQNR reported" % name)
                elif abs(rep[name] - s) > 0.1:
                    problems.append("%s: reported %.2f dB, loom-run's outputs give %.2f dB" % (name, rep[name], s))
                if s < FLOORS[mode]:
                    problems.append("%s: SQNR %.1f dB below the floor %d dB" % (name, s, FLOORS[mode]))
            print("%s %s: %s" % (model, mode, "; ".join(problems) if problems else "ok"))


def npu(loomc, loomrun, t, target):
    src = os.path.join(t, "zoo", "gpt2")
    for label, extra in [("float", []), ("int8", ["--quantize=int8", "--calibration-data=" + src])]:
        plan = os.path.join(t, "npu-" + label)
        run([loomc, os.path.join(src, "model.onnx"), "-o", plan, "--target=" + target, "--quiet"] + extra)
        tasks = json.load(open(os.path.join(plan, "plan.json")))["tasks"]
        on_npu = [x for x in tasks if x.get("device") == "npu" and x.get("kind") == "kernel"]
        if label == "float":
            print("float: %d tasks on the NPU" % len(on_npu))
        else:
            print("int8: %d qmatmul tasks on the NPU" % sum(x["kernel"] == "qmatmul" for x in on_npu))
        # The plan runs (on the host kernels) and computes the model.
        outputs(loomrun, plan, os.path.join(src, "test_data_set_0"), plan + "-out")


def awq(loomc, loomrun, t):
    src = os.path.join(t, "outlier")
    result = {}
    for mode in ["w4", "awq-w4"]:
        summary = run([loomc, os.path.join(src, "model.onnx"), "-o", os.path.join(t, "outlier-" + mode),
                       "--target=host", "--quantize=" + mode, "--calibration-data=" + src,
                       "--group-size=64"])
        result[mode] = reported(summary)["y"]
    print("awq-w4 %s w4 (%.1f vs %.1f dB)" % ("beats" if result["awq-w4"] > result["w4"] else "does not beat",
                                             result["awq-w4"], result["w4"]))


def kernels(plan):
    """The kernel tasks of a plan."""
    return [x for x in json.load(open(os.path.join(plan, "plan.json")))["tasks"]
            if x.get("kind") == "kernel"]


def swiglu(loomc, loomrun, t, target):
    """The tiny Llama: every mode splits each swiglu into two qmatmuls (the
    gate with the silu epilogue) and a mul, so the quantized kernels are the
    float plan's matmuls plus two per swiglu; the reported SQNR agrees with
    loom-run's outputs and stays above the mode's floor. `auto` weighs each
    swiglu with the cost model: float on the host, quantized on the int8
    NPU (`target`)."""
    src = os.path.join(t, "zoo", "llama_prefill")
    data = os.path.join(src, "test_data_set_0")
    run([loomc, os.path.join(src, "model.onnx"), "-o", os.path.join(t, "llama-f"),
         "--target=host", "--quiet"])
    ref = outputs(loomrun, os.path.join(t, "llama-f"), data, os.path.join(t, "llama-f-out"))
    names = [k["kernel"] for k in kernels(os.path.join(t, "llama-f"))]
    print("float: %d matmul, %d swiglu" % (names.count("matmul"), names.count("swiglu")))
    runs = [(m, "host") for m in ["w8", "w4", "int8", "awq-w4", "dynamic", "auto"]]
    for mode, tgt in runs + [("auto", target)]:
        plan = os.path.join(t, "llama-%s-%s" % (mode, os.path.basename(tgt)))
        summary = run([loomc, os.path.join(src, "model.onnx"), "-o", plan, "--target=" + tgt,
                       "--quantize=" + mode, "--calibration-data=" + src])
        count = int(re.search(r"quantized: \S+, (\d+) quantized kernels", summary).group(1))
        rep = reported(summary)
        got = outputs(loomrun, plan, data, plan + "-out")
        problems = []
        for name, r in ref.items():
            s = sqnr(r, got[name])
            if name not in rep or abs(rep[name] - s) > 0.1:
                problems.append("%s: reported %s dB, loom-run's outputs give %.2f dB"
                                % (name, rep.get(name), s))
            if s < FLOORS[mode]:
                problems.append("%s: SQNR %.1f dB below the floor %d dB" % (name, s, FLOORS[mode]))
        ks = kernels(plan)
        gates = sum(k["kernel"] == "qmatmul" and
                    k["attrs"].get("activation", {}).get("string") == "silu" for k in ks)
        left = sum(k["kernel"] == "swiglu" for k in ks)
        print("%s on %s: %d quantized kernels, %d silu qmatmuls, %d swiglu left: %s"
              % (mode, os.path.basename(tgt), count, gates, left,
                 "; ".join(problems) if problems else "ok"))


if __name__ == "__main__":
    {"modes": modes, "npu": npu, "awq": awq, "swiglu": swiglu}[sys.argv[1]](*sys.argv[2:])
