#!/usr/bin/python3
"""The output SQNR an ideal weight quantizer could reach on the zoo, next to
what `loomc --quantize` reaches.

Rate-distortion bound. For each mode (w8: 8 bits per weight plus one f32
scale per output channel; w4: 4 bits plus one f32 scale per group of 128
along the reduction axis, per channel when the axis does not divide), every
constant weight of a MatMul / Gemm / Conv (the weights those modes quantize)
gets independent Gaussian noise of variance sigma_c^2 * 2^(-2R), where
sigma_c^2 is the variance of the weight's output channel c and R the mode's
bits per weight including its share of the scales (8 + 32/K for a channel
of K weights). That is the distortion of Shannon's rate-distortion function
of a Gaussian source: no quantizer spending R bits per weight (scalar or
vector, round-to-nearest, GPTQ, AdaRound, ...) gives a Gaussian weight a
smaller mean squared error. The zoo's weights are Gaussian (gen_zoo.py
draws them with numpy's standard_normal), so the output SQNR measured with
this noise ("isotropic bound") is what an ideal R-bit quantizer reaches to
first order when it spreads its error evenly over the input directions.

A quantizer that knows the activations (GPTQ) can instead shape each
layer's error into the input directions the calibration data rarely uses.
That pays only if the evaluation inputs avoid the same directions. With
`--layers`, a second table measures it per MatMul weight: the layer's own
SQNR on test_data_set_0's activations for round-to-nearest per channel
(RTN, what w8 / w4 do), for GPTQ (symmetric per channel, 1% damping,
error propagated through the Cholesky factor of H^-1) with H from
`--gain-sets` fresh random input sets (held out), and for GPTQ with H from
test_data_set_0 itself (the evaluation data: what calibrating on the data
one measures on would report).

Each model is compiled by loomc for the host (float, and with
`--quantize=w8|w4`, calibrated on test_data_set_0) and run by loom-run on
its test_data_set_0; SQNR = 10 log10(sum ref^2 / sum (ref - out)^2) per
output against the float plan. Noise SQNRs average the noise power over
`--seeds` draws.

  /usr/bin/python3 bench/quant/bound.py ZOO_DIR [--models a,b] [--seeds 3]
      [--layers] [--gain-sets 48] [--loomc PATH] [--loom-run PATH]

ZOO_DIR is a folder written by bench/models/gen_zoo.py. Prints markdown
tables.
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MODELS = "gpt2,llama_prefill,llama_decode,whisper_encoder,vit,mobilenet,unet_block"
MODES = {"w8": (8, None), "w4": (4, 128)}  # bits, group size along the reduction axis
SCALE_BITS = 32


def quantized_weights(model):
    """initializer name -> (output-channel axis, reduction axis) for the
    constant weights of MatMul (B [K, N]), Gemm (B, transB) and Conv
    (W [O, C/g, k...])."""
    inits = {t.name for t in model.graph.initializer}
    found = {}
    for node in model.graph.node:
        if len(node.input) < 2 or node.input[1] not in inits:
            continue
        if node.op_type == "MatMul":
            found[node.input[1]] = (-1, -2)
        elif node.op_type == "Gemm":
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            found[node.input[1]] = (0, 1) if trans_b else (1, 0)
        elif node.op_type == "Conv":
            found[node.input[1]] = (0, 1)
    return found


def rate(shape, channel_axis, reduction_axis, bits, group):
    """Bits per weight of a mode: `bits` plus the f32 scales' share."""
    per_channel = int(np.prod(shape)) // shape[channel_axis]
    k = shape[reduction_axis]
    block = per_channel if group is None or k % group else per_channel * group // k
    return bits + SCALE_BITS / block


def perturb(model, bits, group, rng):
    """A copy of `model` whose quantizable weights carry the rate-distortion
    noise of the mode; returns (model, number of weights perturbed)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    weights = quantized_weights(m)
    count = 0
    for i, t in enumerate(m.graph.initializer):
        if t.name not in weights:
            continue
        w = numpy_helper.to_array(t).astype(np.float64)
        if w.ndim < 2:
            continue
        ch, red = (a % w.ndim for a in weights[t.name])
        r = rate(w.shape, ch, red, bits, group)
        var = w.var(axis=tuple(d for d in range(w.ndim) if d != ch), keepdims=True)
        noise = rng.standard_normal(w.shape) * np.sqrt(var * 2.0 ** (-2.0 * r))
        m.graph.initializer[i].CopyFrom(
            numpy_helper.from_array((w + noise).astype(np.float32), t.name))
        count += 1
    return m, count


def read_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def inputs_of(data_dir):
    """[(name, path)] of data_dir/input_N.pb."""
    out, n = [], 0
    while os.path.exists(os.path.join(data_dir, "input_%d.pb" % n)):
        path = os.path.join(data_dir, "input_%d.pb" % n)
        out.append((read_tensor(path).name, path))
        n += 1
    return out


def compile_plan(loomc, model_path, plan, extra=()):
    """Runs loomc; returns its standard output."""
    r = subprocess.run([loomc, model_path, "-o", plan, "--target=host"] + list(extra),
                       check=True, stdout=subprocess.PIPE, text=True)
    return r.stdout


def run_plan(loom_run, plan, feeds, out):
    """Runs `plan` on `feeds` ([(name, path)]); returns its outputs as
    float64 arrays."""
    args = [loom_run, plan, "--output-dir", out, "--quiet"]
    for name, path in feeds:
        args += ["--input", "%s=%s" % (name, path)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    outs, n = [], 0
    while os.path.exists(os.path.join(out, "output_%d.pb" % n)):
        outs.append(numpy_helper.to_array(read_tensor(os.path.join(out, "output_%d.pb" % n)))
                    .astype(np.float64))
        n += 1
    return outs


def sqnr(ref, noise_power):
    signal = float(np.sum(ref ** 2))
    return math.inf if noise_power == 0 else 10 * math.log10(signal / noise_power)


def random_feeds(data_dir, rng, work):
    """Fresh inputs like test_data_set_0's: integers uniform in [0, max],
    floats Gaussian with the same mean and deviation."""
    feeds = []
    for k, (name, path) in enumerate(inputs_of(data_dir)):
        a = numpy_helper.to_array(read_tensor(path))
        if np.issubdtype(a.dtype, np.integer):
            b = rng.integers(0, int(a.max()) + 1, size=a.shape).astype(a.dtype)
        else:
            b = (rng.standard_normal(a.shape) * a.std() + a.mean()).astype(a.dtype)
        p = os.path.join(work, "in_%d.pb" % k)
        with open(p, "wb") as f:
            f.write(numpy_helper.from_array(b, name).SerializeToString())
        feeds.append((name, p))
    return feeds


def activations(args, model, data_dir, work):
    """(pairs, sets): the (activation, weight) names of every MatMul with a
    2-D constant weight, and for test_data_set_0 followed by `--gain-sets`
    fresh random input sets, each activation reshaped to [rows, K]."""
    inits = {t.name: t for t in model.graph.initializer}
    pairs = [(n.input[0], n.input[1]) for n in model.graph.node
             if n.op_type == "MatMul" and n.input[1] in inits and len(inits[n.input[1]].dims) == 2]
    acts = sorted({a for a, _ in pairs})
    m = onnx.ModelProto()
    m.CopyFrom(model)
    first = len(m.graph.output)
    for a in acts:
        m.graph.output.append(helper.make_tensor_value_info(a, TensorProto.FLOAT, None))
    path = os.path.join(work, "probe.onnx")
    onnx.save(m, path)
    plan = os.path.join(work, "probe")
    compile_plan(args.loomc, path, plan, ["-O0"])
    rng = np.random.default_rng(7)
    sets = []
    for s in range(args.gain_sets + 1):
        feeds = inputs_of(data_dir) if s == 0 else random_feeds(data_dir, rng, work)
        outs = run_plan(args.loom_run, plan, feeds, os.path.join(work, "probe_out"))
        sets.append({a: x.reshape(-1, x.shape[-1]) for a, x in zip(acts, outs[first:])})
    return pairs, sets


def grid_scales(w, qmax, group):
    """[K, N] scales of w [K, N] as the mode's quantizer sets them: the max
    magnitude per column, or per group of `group` rows of a column when K
    divides."""
    k = w.shape[0]
    if group is None or k % group:
        return np.broadcast_to(np.abs(w).max(axis=0) / qmax, w.shape)
    blocks = np.abs(w).reshape(k // group, group, -1).max(axis=1) / qmax
    return np.repeat(blocks, group, axis=0)


def rtn(w, scale, qmax):
    """Round-to-nearest onto the symmetric grid of `scale` (w's shape)."""
    return np.clip(np.round(w / scale), -qmax, qmax) * scale


def gptq(w, scale, qmax, h):
    """GPTQ of w [K, N] (rows = input features) for the second-moment
    matrix h [K, K]: rows are quantized in order and each row's error,
    divided by the Cholesky factor's diagonal, is propagated to the rows
    after it."""
    w = w.copy()
    k = w.shape[0]
    h = h + 0.01 * np.mean(np.diag(h)) * np.eye(k)
    u = np.linalg.cholesky(np.linalg.inv(h)).T
    q = np.zeros_like(w)
    for i in range(k):
        q[i] = rtn(w[i], scale[i], qmax)
        err = (w[i] - q[i]) / u[i, i]
        w[i + 1:] -= np.outer(u[i, i + 1:], err)
    return q


def layer_table(args, name, model, data_dir, work):
    """Prints one row per MatMul weight: its layer SQNR on test_data_set_0
    for RTN, held-out GPTQ and GPTQ on the evaluation data, per mode."""
    pairs, sets = activations(args, model, data_dir, work)
    inits = {t.name: numpy_helper.to_array(t).astype(np.float64)
             for t in model.graph.initializer}
    for a, wn in pairs:
        w = inits[wn]
        x0 = sets[0][a].astype(np.float64)
        xh = np.concatenate([s[a] for s in sets[1:]]).astype(np.float64)
        y = x0 @ w
        cells = []
        for bits, group in MODES.values():
            qmax = 2 ** (bits - 1) - 1
            scale = grid_scales(w, qmax, group)
            for q in (rtn(w, scale, qmax), gptq(w, scale, qmax, xh.T @ xh / len(xh)),
                      gptq(w, scale, qmax, x0.T @ x0 / len(x0))):
                cells.append("%.1f" % (10 * math.log10(np.sum(y ** 2) /
                                                       np.sum((x0 @ (q - w)) ** 2))))
        print("| %s | %s | %d | %s |" % (name, wn, w.shape[0], " | ".join(cells)))


def loomc_sqnr(args, mdir, mode, work):
    """output name -> SQNR loomc reports for --quantize=mode."""
    text = compile_plan(args.loomc, os.path.join(mdir, "model.onnx"), os.path.join(work, mode),
                        ["--quantize=" + mode, "--calibration-data=" + mdir])
    return {m.group(1): m.group(2)
            for m in re.finditer(r"^\s+(\S+): SQNR ([-0-9.inf]+) dB", text, re.M)}


def model_outputs(args, mdir):
    """[(output name, weights perturbed, {mode: [loomc SQNR, bound SQNR]})]
    for the non-zero outputs of the zoo model in `mdir` (args: loomc,
    loom_run, seeds). The SQNRs are strings ("-" where loomc gave none)."""
    data = os.path.join(mdir, "test_data_set_0")
    model = onnx.load(os.path.join(mdir, "model.onnx"))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        feeds = inputs_of(data)
        compile_plan(args.loomc, os.path.join(mdir, "model.onnx"), os.path.join(work, "ref"))
        ref = run_plan(args.loom_run, os.path.join(work, "ref"), feeds,
                       os.path.join(work, "ref_out"))
        cells = {}  # (mode, output index) -> [loomc, bound]
        count = 0
        for mode, (bits, group) in MODES.items():
            measured = loomc_sqnr(args, mdir, mode, work)
            noise = [0.0] * len(ref)
            for seed in range(args.seeds):
                pm, count = perturb(model, bits, group, np.random.default_rng(1000 * seed + bits))
                path = os.path.join(work, "perturbed.onnx")
                onnx.save(pm, path)
                compile_plan(args.loomc, path, os.path.join(work, "p"))
                outs = run_plan(args.loom_run, os.path.join(work, "p"), feeds,
                                os.path.join(work, "p_out"))
                for k, (a, b) in enumerate(zip(ref, outs)):
                    noise[k] += float(np.sum((a - b) ** 2)) / args.seeds
            for k, out in enumerate(model.graph.output):
                cells[(mode, k)] = [measured.get(out.name, "-"), "%.1f" % sqnr(ref[k], noise[k])]
        for k, out in enumerate(model.graph.output):
            if np.any(ref[k]):
                rows.append((out.name, count, {mode: cells[(mode, k)] for mode in MODES}))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("zoo")
    ap.add_argument("--models", default=MODELS)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--layers", action="store_true")
    ap.add_argument("--gain-sets", type=int, default=48)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--loomc", default=os.path.join(root, "build/bin/loomc"))
    ap.add_argument("--loom-run", default=os.path.join(root, "build/bin/loom-run"))
    args = ap.parse_args()
    models = args.models.split(",")

    cols = sum((["%s loomc" % m, "%s bound" % m] for m in MODES), [])
    print("Model outputs: SQNR (dB) of `loomc --quantize` and of rate-distortion noise")
    print()
    print("| model | output | weights | " + " | ".join(cols) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in cols) + " |")
    for name in models:
        print("  %s" % name, file=sys.stderr)
        for out_name, count, cells in model_outputs(args, os.path.join(args.zoo, name)):
            print("| %s | %s | %d | %s |" % (name, out_name, count, " | ".join(
                sum((cells[mode] for mode in MODES), []))))
    if not args.layers:
        return
    cols = sum((["%s RTN" % m, "%s GPTQ held-out" % m, "%s GPTQ on eval data" % m]
                for m in MODES), [])
    print()
    print("Layers: SQNR (dB) of each MatMul's output on test_data_set_0 "
          "(GPTQ held-out: H from %d fresh input sets)" % args.gain_sets)
    print()
    print("| model | weight | K | " + " | ".join(cols) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in cols) + " |")
    for name in models:
        mdir = os.path.join(args.zoo, name)
        print("  %s layers" % name, file=sys.stderr)
        with tempfile.TemporaryDirectory() as work:
            layer_table(args, name, onnx.load(os.path.join(mdir, "model.onnx")),
                        os.path.join(mdir, "test_data_set_0"), work)


if __name__ == "__main__":
    main()
