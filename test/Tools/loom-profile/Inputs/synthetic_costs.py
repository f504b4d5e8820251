#!/usr/bin/python3
"""Writes a cost table (docs/targets.md) of synthetic measurements on device
`cpu` whose true costs are known, for fit.test:

  relu on n f32 elements:  1 (dispatch) + 0.5 + 8n / 10e3        (10 GB/s)
  matmul M x K x N (f32):  1 + 3 + 2MKN / 40e3 + 4(MK + KN + MN) / 12e3
                           (40 GOP/s, 12 GB/s)

With --threads 2, as two threads would run them (neither doubles: the
relu is bound by memory, the matmul pays 6 us for its team's fork and
join and reaches 72 GOP/s):

  relu:   1 + 0.5 + 8n / 16e3                              (16 GB/s)
  matmul: 1 + 3 + 6 + 2MKN / 72e3 + 4(MK + KN + MN) / 12e3

    synthetic_costs.py OUT.json [--threads 2]
"""
import json
import sys

two = "--threads" in sys.argv and sys.argv[sys.argv.index("--threads") + 1] == "2"
entries = []
for n in [256 * 4 ** i for i in range(8)]:
    us = 1 + 0.5 + 8 * n / (16e3 if two else 10e3)
    entries.append({"kernel": "relu", "inputs": ["%dxf32" % n],
                    "outputs": ["%dxf32" % n], "us": {"cpu": us}})
for m in (2, 16, 128):
    for k in (64, 256, 1024):
        for n in (32, 512):
            ops = 2 * m * k * n
            b = 4 * (m * k + k * n + m * n)
            us = 1 + 3 + (6 if two else 0) + ops / (72e3 if two else 40e3) + b / 12e3
            entries.append({"kernel": "matmul",
                            "inputs": ["%dx%dxf32" % (m, k), "%dx%dxf32" % (k, n)],
                            "outputs": ["%dx%dxf32" % (m, n)], "us": {"cpu": us}})
entries.sort(key=lambda e: "%s(%s)->(%s)" % (e["kernel"], ",".join(e["inputs"]),
                                           ",".join(e["outputs"])))
with open(sys.argv[1], "w") as f:
    json.dump({"version": 1, "target": "host", "entries": entries}, f, indent=2)
