"""check_layers.py MODEL_DIR REPORT.html {mlp|bias|grouped} [--keep]: the
per-layer table of loomc's report against an independent numpy
computation of w8 (symmetric i8, one scale max|w| / 127 per output
channel, round half to even) on MODEL_DIR's test_data_set_0:

mlp:  fc1 = Relu(x @ w1 + b1) against the same with deq(w1); fc2 reads
      the quantized fc1's output (the quantized model's own input) and is
      compared with the same product in f32. With --keep: the report
      must say that the layer numpy finds worst is kept f32; where the
      report gives the outputs' SQNR with a layer alone quantized
      (--keep-float-by=output), that too.
bias: each layer before and after bias correction: c = -(deq(W) - W) . E[x]
      (E[x] the mean of each input channel), the layer's output + c.
grouped: as bias's MatMul, the weight with one scale per 16 rows and
      column (w8 with --group-size=16).

Prints one line per layer and exits 1 when a value is more than 0.05 dB
off."""
import os
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper

model_dir, report, kind = sys.argv[1], sys.argv[2], sys.argv[3]  # mlp, bias, grouped
keep = "--keep" in sys.argv[4:]
model = onnx.load(os.path.join(model_dir, "model.onnx"))
w = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
data = os.path.join(model_dir, "test_data_set_0")
x = {}
for f in sorted(os.listdir(data)):
    t = onnx.TensorProto()
    t.ParseFromString(open(os.path.join(data, f), "rb").read())
    x[t.name] = numpy_helper.to_array(t).astype(np.float64)


def deq(wt, axis, group=None):
    """i8 per output channel along `axis` (the other axes reduce); with
    `group`, a [K, N] weight has one scale per `group` rows and column."""
    wt32 = wt.astype(np.float32)
    if group:
        k, n = wt.shape
        blocks = wt32.reshape(k // group, group, n)
        scale = (np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)).astype(np.float32)
        q = np.clip(np.rint(blocks.astype(np.float64) / scale), -128, 127)
        return (q * scale.astype(np.float64)).reshape(k, n)
    red = tuple(d for d in range(wt.ndim) if d != axis)
    scale = (np.abs(wt32).max(axis=red, keepdims=True) / np.float32(127)).astype(np.float32)
    q = np.clip(np.rint(wt32.astype(np.float64) / scale), -128, 127)
    return q * scale.astype(np.float64)


def sqnr(ref, got):
    return 10 * np.log10((ref ** 2).sum() / ((ref - got) ** 2).sum())


def conv1x1(img, wt):
    return np.einsum("nchw,oc->nohw", img, wt[:, :, 0, 0])


# name, kind, format, SQNR, bias correction, (equalization), f32 weight bytes
rows = [r[:5] + r[6:] for r in re.findall(
    r"<tr><td>([^<]*)</td><td>(matmul|conv)</td><td>([^<]*)</td>"
    r"<td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>",
    open(report).read())]
want = []  # (name, sqnr, bias before, bias after)
if kind == "mlp":
    relu = lambda v: np.maximum(v, 0)
    h_f = relu(x["x"] @ w["w1"] + w["b1"])
    h_q = relu(x["x"] @ deq(w["w1"], 1) + w["b1"])
    want.append(("fc1", sqnr(h_f, h_q), None, None))
    want.append(("fc2", sqnr(h_q @ w["w2"], h_q @ deq(w["w2"], 1)), None, None))
    # With fc1 kept f32, fc2 reads its float output in the final model.
    fc2_after_keep = sqnr(h_f @ w["w2"], h_f @ deq(w["w2"], 1))
    # The model output with one layer alone quantized (--keep-float-by=output).
    alone = {"fc1": sqnr(h_f @ w["w2"], h_q @ w["w2"]),
             "fc2": sqnr(h_f @ w["w2"], h_f @ deq(w["w2"], 1))}
else:
    group = 16 if kind == "grouped" else None
    xm = x["x"].mean(axis=0)
    wd = deq(w["w"], 1, group)
    yf, yq = x["x"] @ w["w"], x["x"] @ wd
    c = -(wd - w["w"]).T @ xm
    want.append(("fc", sqnr(yf, yq + c), sqnr(yf, yq), sqnr(yf, yq + c)))
if kind == "bias":
    im = x["img"].mean(axis=(0, 2, 3))
    bc = w["bc"][None, :, None, None]
    zf, zq = conv1x1(x["img"], w["wc"]) + bc, conv1x1(x["img"], deq(w["wc"], 0)) + bc
    cc = -(deq(w["wc"], 0) - w["wc"])[:, :, 0, 0] @ im
    want.append(("conv", sqnr(zf, zq + cc[None, :, None, None]), sqnr(zf, zq),
                 sqnr(zf, zq + cc[None, :, None, None])))
if len(rows) != len(want):
    sys.exit("expected %d layer rows in %s, found %d" % (len(want), report, len(rows)))
bad = 0
worst = min(range(len(want)), key=lambda i: want[i][1])


def close(text, value, what):
    global bad
    got = float(text)
    ok = abs(got - value) <= 0.05
    bad += not ok
    return "%s %.2f (numpy %.2f) %s" % (what, got, value, "ok" if ok else "WRONG")


for (name, kindcol, fmt, sq, bias, _), (wname, value, before, after) in zip(rows, want):
    m = re.search(r"; outputs with it alone quantized: ([-0-9.]+)", sq)
    sq = sq.split(";")[0]
    alone_text = (" " + close(m.group(1), alone[wname], "alone")) if m else ""
    line = "layer %s (%s, %s):" % (name, kindcol, fmt)
    if wname not in name.split("+"):
        bad += 1
        line += " expected %s WRONG" % wname
    if keep and want.index((wname, value, before, after)) == worst:
        m = re.match(r"kept f32 \(quantized: ([-0-9.]+)\)", sq)
        if not m:
            bad += 1
            line += " not kept WRONG"
        else:
            line += " kept f32, " + close(m.group(1), value, "quantized")
    elif sq.startswith("kept"):
        bad += 1
        line += " kept, numpy's worst is another layer WRONG"
    else:
        if keep and worst == 0 and wname == "fc2":
            value = fc2_after_keep
        line += " " + close(sq, value, "SQNR")
    if before is not None:
        m = re.match(r"(applied|not applied) \(([-0-9.]+) &rarr; ([-0-9.]+)\)", bias)
        if not m:
            bad += 1
            line += " no bias correction WRONG"
        else:
            line += " bias %s: %s, %s" % (m.group(1), close(m.group(2), before, "before"),
                                          close(m.group(3), after, "after"))
    print(line + alone_text)
sys.exit(1 if bad else 0)
