#!/usr/bin/python3
"""Token-for-token check of Loom's generation program against ONNX Runtime.

For each decoder (a model folder of the real-model corpus), compiles a
generation program with `loomc --generate`, then for each prompt length
runs `loom-run OUT --generate` and `bench/llm/ort_generate.js` (ORT's
past/present loop over the original export) with the same prompt ids and
greedy sampling, and compares the generated ids. Also runs the context limit:
a prompt and new tokens that fill --max-context exactly work, one more token
fails with a message. Prints a table (with each process's peak resident
memory, from /usr/bin/time: loom-run's, and node's with ONNX Runtime, which
includes node itself); exit 1 on any difference.

usage: compare_generation.py [--models gpt2_hf_op17,llama_hf_op17]
           [--corpus bench/models/real/out] [--prompts 1,7,128,300]
           [--new-tokens 64] [--max-context 2048] [--prefill-chunk 128]
           [--target host] [--limit-context 512] [--out DIR]
Needs LOOMC and LOOM_RUN (default build/bin/...) and NODE_PATH with
onnxruntime-node (bench/ort/setup.sh).
"""
import argparse
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def model_inputs(path):
    """The names of a model's graph inputs."""
    import onnx
    return {i.name for i in onnx.load(path, load_external_data=False).graph.input}


def run_rss(cmd):
    """Runs cmd under /usr/bin/time; returns (result, peak RSS in MB or None)."""
    r = run(["/usr/bin/time", "-f", "@@rss %M"] + cmd)
    rss, err = None, []
    for line in r.stderr.splitlines():
        if line.startswith("@@rss "):
            rss = int(line.split()[1]) / 1024.0
        else:
            err.append(line)
    r.stderr = "\n".join(err)
    return r, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="gpt2_hf_op17,llama_hf_op17")
    ap.add_argument("--corpus", default=os.path.join(ROOT, "bench/models/real/out"))
    ap.add_argument("--prompts", default="1,7,128,300")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--max-context", type=int, default=2048)
    ap.add_argument("--prefill-chunk", type=int, default=128)
    ap.add_argument("--target", default="host")
    ap.add_argument("--limit-context", type=int, default=512,
                    help="the context of the program the limit is checked on "
                         "(at most the models' position tables: 1024)")
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--out", default="/tmp/loom-generation-check")
    a = ap.parse_args()
    loomc = os.environ.get("LOOMC", os.path.join(ROOT, "build/bin/loomc"))
    loomrun = os.environ.get("LOOM_RUN", os.path.join(ROOT, "build/bin/loom-run"))
    os.makedirs(a.out, exist_ok=True)
    rows, bad = [], 0
    for model in a.models.split(","):
        onnx_path = os.path.join(a.corpus, model, "model.onnx")
        prog = os.path.join(a.out, model)
        # Optimum's merged decoder: the cache branch, always (an empty cache
        # is a masked one); ORT's loop feeds false at step 0.
        extra = []
        if "use_cache_branch" in model_inputs(onnx_path):
            extra = ["--const-input", "use_cache_branch=true"]
        r = run([loomc, onnx_path, "--generate", "-o", prog, "--quiet",
                 "--target", a.target, "--max-context", str(a.max_context),
                 "--prefill-chunk", str(a.prefill_chunk)] + extra)
        if r.returncode:
            print("FAIL %s: loomc --generate: %s" % (model, r.stderr.strip()))
            bad += 1
            continue
        for plen in [int(x) for x in a.prompts.split(",")]:
            ids = [random.Random(1000 * plen + i).randrange(a.vocab) for i in range(plen)]
            prompt = ",".join(map(str, ids))
            lj, oj = os.path.join(a.out, "loom.json"), os.path.join(a.out, "ort.json")
            rl, lrss = run_rss([loomrun, prog, "--generate", "--prompt-ids", prompt,
                                "--max-new-tokens", str(a.new_tokens), "--json", lj,
                                "--quiet"])
            ro, orss = run_rss(["node", os.path.join(HERE, "ort_generate.js"), onnx_path,
                                "--prompt-ids", prompt, "--max-new-tokens",
                                str(a.new_tokens), "--json", oj])
            if rl.returncode or ro.returncode:
                print("FAIL %s prompt %d: %s%s" % (model, plen, rl.stderr.strip(), ro.stderr.strip()))
                bad += 1
                continue
            L, O = json.load(open(lj)), json.load(open(oj))
            same = L["tokens"] == O["tokens"]
            first = next((i for i, (x, y) in enumerate(zip(L["tokens"], O["tokens"])) if x != y), None)
            bad += not same
            rows.append((model, plen, len(L["tokens"]), "yes" if same else "no (first at %s)" % first,
                         L["ttft_ms"], O["ttft_ms"], L["tokens_per_s"], O["tokens_per_s"],
                         lrss, orss))
        # The context limit, on a program of --limit-context positions:
        # exactly full works, one token more fails.
        small = prog + "-limit"
        r = run([loomc, onnx_path, "--generate", "-o", small, "--quiet",
                 "--target", a.target, "--max-context", str(a.limit_context),
                 "--prefill-chunk", str(a.prefill_chunk)] + extra)
        plen = 10
        prompt = ",".join(str(i % a.vocab) for i in range(plen))
        fill = a.limit_context - plen + 1  # the last token needs no cache slot
        r_full = run([loomrun, small, "--generate", "--prompt-ids", prompt,
                      "--max-new-tokens", str(fill), "--quiet"])
        r_over = run([loomrun, small, "--generate", "--prompt-ids", prompt,
                      "--max-new-tokens", str(fill + 1), "--quiet"])
        limit_ok = r.returncode == 0 and r_full.returncode == 0 and \
            r_over.returncode != 0 and \
            "context of %d tokens is full" % a.limit_context in r_over.stderr
        bad += not limit_ok
        rows.append((model, "limit", fill, "ok" if limit_ok else "NO: %s" % r_over.stderr.strip()[:120],
                     None, None, None, None, None, None))
    print("| model | prompt | new | same ids as ORT | TTFT Loom ms | TTFT ORT ms | Loom tok/s "
          "| ORT tok/s | peak RSS Loom MB | peak RSS ORT (node) MB |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    f = lambda v, fmt: "" if v is None else fmt % v
    for r in rows:
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r[0], r[1], r[2], r[3], f(r[4], "%.2f"), f(r[5], "%.2f"), f(r[6], "%.0f"),
            f(r[7], "%.0f"), f(r[8], "%.0f"), f(r[9], "%.0f")))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
