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
    elif len(sys.argv) >= 3 and sys.argv[1] == "check-best":
        sys.exit(check_best(sys.argv[2:]))
    else:
        sys.exit(__doc__)
