#!/usr/bin/env python3
"""Helpers of the scenario lit tests (test/Scenario).

  scenario_summary.py summary OUT_DIR
      one line per policy (name, misses, worst TTFT in ms), then one line per
      job of the written schedule: model, role, instance, devices of its
      tasks, start and end in ms, and MISSED when it misses its deadline.
  scenario_summary.py check-best OUT_DIR...
      for each compiled scenario: the written policy (the default, `best`)
      has no more predicted misses than back-to-back, and fewer where
      back-to-back misses; prints one line per folder and exits 1 on a
      failure.
  scenario_summary.py chain OUT_DIR
      per generate request, its prefill chunks and decode steps in order:
      `role instance@position[+tokens] plan`, or for more than 12 jobs the
      runs of equal plans; then `rules: ok`, or each broken rule of the
      chain (releases, deadlines, TTFT and tokens/s against the jobs).
"""
import json
import os
import sys


def load(out_dir):
    with open(os.path.join(out_dir, "scenario.json")) as f:
        return json.load(f)


def summary(out_dir):
    s = load(out_dir)
    for p in s["policies"]:
        print("policy %s: %d misses, worst ttft %.3f ms"
              % (p["name"], p["misses"], p["worst_ttft_us"] / 1000))
    print("written: %s" % s["policy"])
    for j in s["jobs"]:
        devices = sorted({t["device"] for t in j["tasks"]})
        print("job %s %s #%d on %s: %.3f-%.3f ms%s"
              % (j["model"], j["role"], j["instance"], ",".join(devices),
                 j["start_us"] / 1000, j["end_us"] / 1000,
                 " MISSED" if j["missed"] else ""))


def chain(out_dir):
    s = load(out_dir)
    problems = []
    for m in s["models"]:
        if "generate" not in m:
            continue
        jobs = sorted((j for j in s["jobs"] if j["model"] == m["name"]),
                      key=lambda j: (j["role"] != "prefill", j["instance"]))
        chunks = [j for j in jobs if j["role"] == "prefill"]
        steps = [j for j in jobs if j["role"] == "decode"]
        plan = lambda j: j["plan"].rsplit("/", 1)[1]
        if len(jobs) <= 12:
            text = " | ".join(
                "%s %d@%d%s %s" % (j["role"], j["instance"], j["position"],
                                   "+%d" % j["tokens"] if j["role"] == "prefill" else "",
                                   plan(j)) for j in jobs)
        else:
            runs = []
            for j in jobs:
                if runs and runs[-1][0] == plan(j):
                    runs[-1][1] += 1
                else:
                    runs.append([plan(j), 1])
            last = chunks[-1]
            text = "%s; last chunk %d@%d+%d" % (
                ", ".join("%s x%d" % (p, n) for p, n in runs), last["instance"],
                last["position"], last["tokens"])
        print("%s: %d chunk(s); %s" % (m["name"], len(chunks), text))
        close = lambda a, b: abs(a - b) <= 0.002
        due = m["at_us"] + m["ttft_us"]
        prev = None
        for j in chunks + steps:
            release = m["at_us"] if prev is None else prev["end_us"]
            deadline = due if j["role"] == "prefill" else release + m["per_token_us"]
            if not close(j["release_us"], release) or not close(j["deadline_us"], deadline):
                problems.append("%s %s %d: release %s deadline %s" % (
                    m["name"], j["role"], j["instance"], j["release_us"], j["deadline_us"]))
            prev = j
        ttft = chunks[-1]["end_us"] - m["at_us"]
        rate = len(steps) / ((steps[-1]["end_us"] - chunks[-1]["end_us"]) / 1e6)
        for p in s["policies"]:
            st = next(x for x in p["models"] if x["name"] == m["name"])
            if st["ttft_us"] <= 0 or st["tokens_per_s"] <= 0:
                problems.append("%s: %s has no TTFT or tokens/s" % (m["name"], p["name"]))
            if p["name"] == s["policy"] and (not close(st["ttft_us"], ttft) or
                                             abs(st["tokens_per_s"] - rate) > 0.01 + 1e-4 * rate):
                problems.append("%s: TTFT %s, tokens/s %s; the jobs give %s, %s" % (
                    m["name"], st["ttft_us"], st["tokens_per_s"], ttft, rate))
    print("rules: " + ("ok" if not problems else "; ".join(problems)))
    return 0 if not problems else 1


def check_best(out_dirs):
    ok = True
    for d in out_dirs:
        s = load(d)
        misses = {p["name"]: p["misses"] for p in s["policies"]}
        chosen, base = misses[s["policy"]], misses["back-to-back"]
        good = chosen <= base and (base == 0 or chosen < base)
        ok &= good
        print("%s: %s %d misses, back-to-back %d: %s"
              % (os.path.basename(d.rstrip("/")), s["policy"], chosen, base,
                 "ok" if good else "WORSE"))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "summary":
        summary(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "chain":
        sys.exit(chain(sys.argv[2]))
    elif len(sys.argv) >= 3 and sys.argv[1] == "check-best":
        sys.exit(check_best(sys.argv[2:]))
    else:
        sys.exit(__doc__)
