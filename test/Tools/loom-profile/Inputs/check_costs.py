#!/usr/bin/python3
"""Checks that every kernel task of a plan took its cost from a cost table.

    check_costs.py PLAN_DIR COSTS.json [--device NAME]

For each kernel task of PLAN_DIR/plan.json (compiled with `loomc
--cost-table=COSTS.json`), builds its kernel signature from the buffers
(docs/targets.md, "Cost tables") and checks that the table has an entry for
it and that the task's `cost_us` on the device equals the measured time: a
task whose signature plan-estimate-costs did not find would carry the
roofline estimate instead. Prints `N of N tasks measured` or the first
mismatches and exits 1.
"""
import argparse
import json
import os
import sys

# plan.json dtypes -> the MLIR element types that signatures use.
MLIR = {"f32": "f32", "f64": "f64", "f16": "f16", "bf16": "bf16",
        "i8": "i8", "i16": "i16", "i32": "i32", "i64": "i64",
        "u8": "ui8", "u16": "ui16", "u32": "ui32", "u64": "ui64",
        "bool": "i1"}


def operand(buffers, b):
    if b is None:
        return "none"
    buf = buffers[b]
    return "".join(f"{d}x" for d in buf["shape"]) + MLIR[buf["dtype"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("plan_dir")
    ap.add_argument("table")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    with open(os.path.join(args.plan_dir, "plan.json")) as f:
        plan = json.load(f)
    with open(args.table) as f:
        table = json.load(f)
    entries = {}
    for e in table["entries"]:
        sig = f'{e["kernel"]}({",".join(e["inputs"])})->({",".join(e["outputs"])})'
        entries[sig] = e["us"]
    buffers = plan["buffers"]
    tasks = [t for t in plan["tasks"] if t["kind"] == "kernel"]
    bad = []
    for t in tasks:
        sig = (f'{t["kernel"]}({",".join(operand(buffers, b) for b in t["inputs"])})'
               f'->({",".join(operand(buffers, b) for b in t["outputs"])})')
        want = entries.get(sig, {}).get(args.device)
        got = t["cost_us"].get(args.device)
        if want is None:
            bad.append(f"task {t['id']} '{t['name']}': no entry for {sig}")
        elif got is None or abs(got - want) > 1e-6 * max(1.0, abs(want)):
            bad.append(f"task {t['id']} '{t['name']}': cost_us.{args.device} "
                       f"{got}, table {want} for {sig}")
    if bad:
        print("\n".join(bad[:10]))
        print(f"{len(tasks) - len(bad)} of {len(tasks)} tasks measured")
        return 1
    print(f"{len(tasks)} of {len(tasks)} tasks measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
