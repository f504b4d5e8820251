#!/usr/bin/python3
"""Runs Loom on the real-model corpus (bench/models/real/build.py) and
tabulates how far each model gets against ONNX Runtime.

  run.py [CORPUS_DIR] [--fast] [--filter REGEX] [--jobs N] [--out DIR]
         [--targets host,ryzen-ai-300] [--xfail FILE] [--check]

For each model of CORPUS_DIR (default bench/models/real/out) and each
target: `loomc model.onnx --target=T --emit=plan` (graph inputs with
symbolic dimensions are bound with --input-shape to the shapes of the test
inputs, as a user would), then `loom-run OUT --test-data test_data_set_0
--rtol 1e-3 --atol 1e-4` against ONNX Runtime's outputs.

Writes OUT/results.md (the table, the totals, the failure classes with
example messages, the expected-failure check) and OUT/results.csv, and
OUT/logs/<model>.<target>.txt. Default OUT: bench/models/real/results.

Per model: `result` is `match` or the category where it stopped, the
categories of the expected-failure table (bench/models/real/xfail.txt, the
format of test/Conformance/conformance_xfail.txt: `model  [category] reason`):
import, unsupported op, compile, runtime error, mismatch (timeouts count in
the category of the step that timed out). `class` is a short class derived
from the first line of the error (CLASSES below). A model matches when it
matches on every target; otherwise the first failing target is reported.

A model listed in tolerances.txt (`model  rtol=R atol=A  reason`) is
compared at its stated tolerance instead, with the measurement that says why
in the reason; the table shows it.

--check exits 1 when a model that is not in the xfail table fails, or an
xfail-listed model passes or fails in another category (the lit test
test/Bench/real-corpus.test uses it). Environment: LOOMC, LOOM_RUN (default
build/bin/loomc, build/bin/loom-run of this checkout).
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)

CATEGORIES = ["import", "unsupported op", "compile", "runtime error", "mismatch"]

# (regex on the first error line, class, category). First match wins; the
# class may use the regex's groups. The fallback class is the message with
# names and numbers blanked out.
CLASSES = [
    (r"cannot upgrade the model from opset .*adapt_(\w+)", r"version converter (\1)", "import"),
    (r"cannot upgrade the model from opset", "version converter", "import"),
    (r"not topologically sorted|has a cycle", "cyclic/unsorted graph", "import"),
    (r"unbound dimension", "unbound input dims", "import"),
    (r"shape inference failed", "onnx shape inference", "import"),
    (r"the model uses opset", "unknown opset", "import"),
    (r"cannot import the model|not a valid ONNX model|cannot read the model", "cannot import", "import"),
    (r"of 'loom\.(\w+)' has non-static type", r"non-static type (\1)", "compile"),
    (r"has non-static type", "non-static type", "compile"),
    (r"\bIf\b.*condition|condition of .*If", "If condition", "compile"),
    (r"(?:Loop|Scan)\b.*trip count|trip count", "Loop trip count", "compile"),
    (r"unsupported op(?:eration)?[ :']*'?([\w.]+)", r"unsupported op \1", "unsupported op"),
    (r"no kernel for '?([\w.]+)", r"no kernel \1", "unsupported op"),
    (r"'loom\.(\w+)' op ", r"verifier: loom.\1", "compile"),
]

ORT_TOLERANCE = ("1e-3", "1e-4")  # rtol, atol
TOLERANCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tolerances.txt")
XFAIL = os.path.join(HERE, "xfail.txt")


def load_tolerances(path):
    """`model  rtol=R atol=A  reason` per line -> {model: (rtol, atol, reason)}:
    the stated tolerance of a model whose outputs are not comparable at
    ORT_TOLERANCE, with the measurement that says why (tolerances.txt)."""
    table = {}
    for n, line in table_lines(path):
        m = re.match(r"(\S+)\s+rtol=(\S+)\s+atol=(\S+)\s+(.+)$", line)
        if not m:
            raise ValueError("%s:%d: expected 'model  rtol=R atol=A  reason', got %r"
                             % (os.path.basename(path), n, line))
        model, rtol, atol, reason = m.groups()
        float(rtol), float(atol)  # both must be numbers
        if model in table:
            raise ValueError("%s:%d: %s is listed twice" % (os.path.basename(path), n, model))
        table[model] = (rtol, atol, reason)
    return table


def classify(msg, stage):
    """(class, category) of an error line; stage is the step that failed
    (loomc or loom-run) and decides the category when no rule does."""
    for rx, cls, cat in CLASSES:
        m = re.search(rx, msg)
        if m:
            return m.expand(cls), cat
    generic = re.sub(r"^loomc: error: \S+: ", "", msg)
    generic = re.sub(r"'[^']*'", "'…'", generic)
    generic = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "N", generic)
    generic = re.sub(r"tensor<[^>]*>", "tensor<…>", generic)
    return generic[:70], ("compile" if stage == "loomc" else "runtime error")


def first_error_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower() or "failed" in l.lower() or "unsupported" in l.lower():
            return l
    return lines[0] if lines else "(no output)"


def table_lines(path):
    """(line number, stripped line) of a side table's entries: blank lines
    and '#' comments skipped; nothing when the file does not exist."""
    if not path or not os.path.exists(path):
        return
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if line and not line.startswith("#"):
                yield n, line


def load_xfail(path):
    table = {}
    for n, line in table_lines(path):
        m = re.match(r"(\S+)\s+\[([^\]]+)\]\s*(.*)$", line)
        where = "%s:%d: " % (os.path.basename(path), n)
        if not m:
            raise ValueError(where + "expected 'model  [category] reason', got %r" % line)
        model, cat, reason = m.groups()
        if cat not in CATEGORIES:
            raise ValueError(where + "%s: unknown category '%s'" % (model, cat))
        if not reason:
            raise ValueError(where + "%s: no reason given" % model)
        if model in table:
            raise ValueError(where + "%s is listed twice" % model)
        table[model] = (cat, reason)
    return table


def input_shape_args(model_path, td):
    """--input-shape for every graph input with a symbolic or unknown dim,
    from the test data (loomc needs static shapes)."""
    m = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    args = []
    inputs = [vi for vi in m.graph.input if vi.name not in inits]
    for i, vi in enumerate(inputs):
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims) and len(dims) > 0:
            continue
        f = os.path.join(td, "input_%d.pb" % i)
        if not os.path.exists(f):
            continue
        t = onnx.TensorProto()
        t.ParseFromString(open(f, "rb").read())
        shape = "x".join(str(d) for d in t.dims) if len(t.dims) else ""
        if shape:
            args.append("--input-shape=%s=%s" % (vi.name, shape))
    return args


def loomc_args(d):
    """What loomc needs for the corpus model in folder d besides the target:
    --input-shape for its symbolic input dimensions (from the test inputs)
    and the flags build.py recorded in done.json's loomc_args (e.g.
    --const-input, --max-trip-count). bench/run.py's section 7 uses it too."""
    args = input_shape_args(os.path.join(d, "model.onnx"), os.path.join(d, "test_data_set_0"))
    try:  # what a model from elsewhere needs bound (build.py's loomc_args)
        args += json.load(open(os.path.join(d, "done.json"))).get("loomc_args", [])
    except Exception:  # noqa: BLE001
        pass
    return args


def run_cmd(cmd, timeout, log):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        out, rc = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = ((e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""))
        out += "\ntimeout: %s did not finish in %d s" % (os.path.basename(cmd[0]), timeout)
        rc = "timeout"
    except FileNotFoundError as e:
        out, rc = "error: %s" % e, 127
    dt = time.time() - t0
    with open(log, "a") as f:
        f.write("$ %s\n%s\n[exit %s, %.1f s]\n\n" % (" ".join(cmd), out, rc, dt))
    return rc, out, dt


def wait_for(tool, seconds=180):
    """The tools may be rebuilt under a long run: wait for a binary that is
    missing for a moment."""
    t0 = time.time()
    while not os.access(tool, os.X_OK) and time.time() - t0 < seconds:
        time.sleep(2)


def run_model(name, corpus, out, targets, loomc, loom_run, timeout):
    d = os.path.join(corpus, name)
    td = os.path.join(d, "test_data_set_0")
    model = os.path.join(d, "model.onnx")
    rec = {"model": name, "result": "match", "class": "", "message": "", "max_abs_err": None,
           "compile_s": 0.0, "run_s": 0.0, "target": ""}
    try:
        done = json.load(open(os.path.join(d, "done.json")))
        rec["opset"], rec["family"], rec["arch"] = done["opset"], done["family"], done["arch"]
    except Exception:  # noqa: BLE001
        rec["opset"], rec["family"], rec["arch"] = "", "", name
    shape_args = loomc_args(d)
    logs = os.path.join(out, "logs")
    errs = []
    for tgt in targets:
        log = os.path.join(logs, "%s.%s.txt" % (name, tgt))
        if os.path.exists(log):
            os.remove(log)
        plan = os.path.join(out, "plans", name, tgt)
        # the tools may be rebuilt under us: retry once if a binary is missing
        wait_for(loomc)
        rc, text, dt = run_cmd([loomc, model, "-o", plan, "--target=" + tgt, "--emit=plan",
                                "--quiet"] + shape_args, timeout, log)
        rec["compile_s"] += dt
        if rc != 0:
            line = first_error_line(text)
            cls, cat = classify(line, "loomc")
            if rc == "timeout":
                cls = "timeout (loomc)"
            errs.append((tgt, cat, cls, line))
            break
        wait_for(loom_run)
        rtol, atol = load_tolerances(TOLERANCES).get(name, ORT_TOLERANCE)[:2]
        if (rtol, atol) != ORT_TOLERANCE:
            rec["tolerance"] = "rtol %s atol %s" % (rtol, atol)
        # Placed as loomc places it by default (device precision auto: an
        # NPU may take f32 tasks in bf16), run in f32 (--exact-precision) so
        # that the outputs compare with ORT's; loomc's precision check
        # measures what bf16 costs in accuracy.
        rc, text, dt = run_cmd([loom_run, plan, "--test-data", td, "--rtol", rtol,
                                "--atol", atol, "--exact-precision"], timeout, log)
        rec["run_s"] += dt
        errsv = [float(x) for x in re.findall(r"max abs err (\S+)", text)
                 if re.match(r"^[-+0-9.einfa]+$", x)]
        if errsv:
            cur = max(errsv)
            rec["max_abs_err"] = cur if rec["max_abs_err"] is None else max(rec["max_abs_err"], cur)
        if rc == 1:
            bad = [l.strip() for l in text.splitlines()
                   if l.strip() and not l.rstrip().endswith(" ok")]
            errs.append((tgt, "mismatch", "mismatch", bad[0] if bad else "outputs differ"))
            break
        if rc != 0:
            line = first_error_line(text)
            cls, cat = classify(line, "loom-run")
            if cat in ("import", "compile"):
                cat = "runtime error"
            if rc == "timeout":
                cls = "timeout (loom-run)"
            errs.append((tgt, cat, cls, line))
            break
        shutil_rm(plan)
    if errs:
        tgt, cat, cls, line = errs[0]
        rec.update(result=cat, **{"class": cls}, message=line, target=tgt)
    rec["compile_s"] = round(rec["compile_s"], 2)
    rec["run_s"] = round(rec["run_s"], 2)
    return rec


def shutil_rm(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


def fmt_err(e):
    return "" if e is None else "%.2e" % e


def write_results(records, out, xfail, problems, elapsed, args, skipped):
    records = sorted(records, key=lambda r: r["model"])
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "family", "arch", "opset", "result", "class", "target", "max_abs_err",
                     "compile_s", "run_s", "xfail", "message"])
        for r in records:
            w.writerow([r["model"], r["family"], r["arch"], r["opset"], r["result"], r["class"],
                        r["target"], fmt_err(r["max_abs_err"]), r["compile_s"], r["run_s"],
                        xfail.get(r["model"], ("", ""))[0], r["message"]])
    n = len(records)
    by = {c: sum(1 for r in records if r["result"] == c) for c in ["match"] + CATEGORIES}
    reached = {  # a model that fails in a later stage got through the earlier ones
        "import": n - by["import"],
        "compile": n - by["import"] - by["unsupported op"] - by["compile"],
        "run": by["match"] + by["mismatch"],
        "match": by["match"],
    }
    L = []
    L.append("# Loom on the real-model corpus\n")
    L.append("`%s` — %d models, targets %s, `loom-run --rtol %s --atol %s` against ONNX "
             "Runtime's outputs; %.0f s with %d jobs.\n" %
             (" ".join(["bench/models/real/run.py"] + args.argv), n, ", ".join(args.targets),
              ORT_TOLERANCE[0], ORT_TOLERANCE[1], elapsed, args.jobs))
    L.append("## Totals\n")
    L.append("| models | import ok | compile ok | run ok | match | mismatch | runtime error | compile error | unsupported op | import error |")
    L.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    L.append("| %d | %d | %d | %d | **%d** (%.0f%%) | %d | %d | %d | %d | %d |\n" % (
        n, reached["import"], reached["compile"], reached["run"], by["match"],
        100.0 * by["match"] / max(n, 1), by["mismatch"], by["runtime error"], by["compile"],
        by["unsupported op"], by["import"]))
    # classes
    classes = {}
    for r in records:
        if r["result"] != "match":
            classes.setdefault((r["result"], r["class"]), []).append(r)
    L.append("## Failure classes\n")
    L.append("| category | class | models | examples |")
    L.append("| --- | --- | ---: | --- |")
    for (cat, cls), rs in sorted(classes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        L.append("| %s | %s | %d | %s |" % (cat, cls, len(rs), ", ".join(r["model"] for r in rs[:4])
                                            + (", …" if len(rs) > 4 else "")))
    L.append("")
    L.append("### Example messages (first error line, exact)\n")
    for (cat, cls), rs in sorted(classes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        L.append("**%s — %s** (%d)\n" % (cat, cls, len(rs)))
        seen = []
        for r in rs:
            msg = re.sub(r"/\S*/(\S+/model\.onnx)", r"\1", r["message"])
            key = re.sub(r"\S+/model\.onnx", "", msg)
            if key not in seen:
                seen.append(key)
                L.append("- `%s`: `%s`" % (r["model"], msg.replace("`", "'")[:400]))
            if len(seen) == 3:
                break
        L.append("")
    L.append("## Per model\n")
    L.append("| model | opset | result | class | max abs err | compile s | run s | xfail |")
    L.append("| --- | ---: | --- | --- | ---: | ---: | ---: | --- |")
    for r in records:
        L.append("| %s | %s | %s | %s | %s | %.1f | %.1f | %s |" % (
            r["model"], r["opset"], r["result"],
            r["class"] + (" (%s)" % r["target"] if r["target"] else "") +
            ("stated tolerance: " + r["tolerance"] if r.get("tolerance") else ""),
            fmt_err(r["max_abs_err"]), r["compile_s"], r["run_s"],
            xfail[r["model"]][0] if r["model"] in xfail else ""))
    L.append("")
    if skipped:
        L.append("## Not in the corpus (the builder skipped them)\n")
        for m, why in sorted(skipped.items()):
            L.append("- `%s`: %s" % (m, why))
        L.append("")
    L.append("## Expected-failure check (%s)\n" % os.path.relpath(args.xfail, ROOT) if args.xfail else "")
    if problems:
        for p in problems:
            L.append("- " + p)
    else:
        L.append("every model matches or fails as its xfail entry says")
    L.append("")
    text = "\n".join(L)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text)
    return text


def check_xfail(records, xfail):
    problems = []
    seen = set()
    for r in sorted(records, key=lambda r: r["model"]):
        seen.add(r["model"])
        want = xfail.get(r["model"])
        if r["result"] == "match":
            if want:
                problems.append("UNEXPECTED PASS %s: listed as [%s] %s; remove it from the xfail table"
                                % (r["model"], want[0], want[1]))
        elif not want:
            problems.append("FAIL %s: %s (%s): %s" % (r["model"], r["result"], r["class"], r["message"]))
        elif want[0] != r["result"]:
            problems.append("CHANGED %s: listed as [%s], now fails as [%s] (%s): %s"
                            % (r["model"], want[0], r["result"], r["class"], r["message"]))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", default=os.path.join(HERE, "out"))
    ap.add_argument("--fast", action="store_true", help="only the CI subset (build.py --fast)")
    ap.add_argument("--filter", help="only models whose name matches this regex (re.search)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--targets", default="host,ryzen-ai-300")
    ap.add_argument("--xfail", default=XFAIL)
    ap.add_argument("--check", action="store_true",
                    help="exit 1 on a failure not in the xfail table or an xfail that passes")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per loomc / loom-run command")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    a.argv = sys.argv[1:]
    a.targets = a.targets.split(",")
    loomc = os.environ.get("LOOMC", os.path.join(ROOT, "build", "bin", "loomc"))
    loom_run = os.environ.get("LOOM_RUN", os.path.join(ROOT, "build", "bin", "loom-run"))
    try:
        xfail = load_xfail(a.xfail)
    except ValueError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    for tool in (loomc, loom_run):
        if not os.access(tool, os.X_OK):
            print("error: %s is not there (build Loom, or set LOOMC / LOOM_RUN)" % tool, file=sys.stderr)
            return 2

    manifest = {}
    mpath = os.path.join(a.corpus, "manifest.json")
    if os.path.exists(mpath):
        manifest = json.load(open(mpath))
    names = sorted(n for n in os.listdir(a.corpus)
                   if os.path.exists(os.path.join(a.corpus, n, "done.json")))
    if a.fast:
        import build
        fast = {e[0] for e in build.catalog(True)}
        names = [n for n in names if n in fast]
    if a.filter:
        names = [n for n in names if re.search(a.filter, n)]
    if not names:
        print("error: no models in %s (build them with bench/models/real/build.py)" % a.corpus,
              file=sys.stderr)
        return 2
    skipped = {m: why for m, why in manifest.get("skipped", {}).items()
               if (not a.filter or re.search(a.filter, m))}
    if a.fast:
        skipped = {m: why for m, why in skipped.items() if m in fast}
    os.makedirs(os.path.join(a.out, "logs"), exist_ok=True)
    t0 = time.time()
    records = []

    def one(n):
        r = run_model(n, a.corpus, a.out, a.targets, loomc, loom_run, a.timeout)
        if not a.quiet:
            print("  %-42s %-14s %-30s %s" % (n, r["result"], r["class"][:30], fmt_err(r["max_abs_err"])),
                  file=sys.stderr, flush=True)
        return r

    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        records = list(ex.map(one, names))
    shutil_rm(os.path.join(a.out, "plans"))
    elapsed = time.time() - t0
    problems = check_xfail(records, xfail)
    if a.fast:  # every model of the CI subset must be there: a skip would hide a regression
        for m in sorted(fast - set(names)):
            if not a.filter or re.search(a.filter, m):
                problems.append("MISSING %s: not built (%s)" % (m, manifest.get("skipped", {}).get(
                    m, "not in %s" % a.corpus)))
    # an xfail entry for a model that was run but is no longer there is stale
    write_results(records, a.out, xfail, problems, elapsed, a, skipped)
    n_match = sum(1 for r in records if r["result"] == "match")
    print("%d/%d models match ONNX Runtime (%.0f s); results in %s" %
          (n_match, len(records), elapsed, os.path.join(a.out, "results.md")))
    for p in problems:
        print(p)
    if a.check and problems:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
