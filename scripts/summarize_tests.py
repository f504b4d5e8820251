#!/usr/bin/python3
"""Counts test cases across ctest's JUnit file, lit's and the conformance run's.

ctest runs lit and the ONNX conformance run as one test each; this expands
them into their cases so the closing line counts every case once: gtest cases
(one ctest test each), lit cases, and conformance tests (from its CSV:
pass -> passed; fail and unexpected pass -> failed; out of scope and expected
failures -> skipped).
"""
import csv
import subprocess
import sys
import xml.etree.ElementTree as ET

build = sys.argv[1]
root = ET.parse(build + "/test-results/ctest.xml").getroot()
passed = failed = skipped = 0
for case in root.iter("testcase"):
    name = case.get("name")
    status = case.get("status")
    if name == "lit":
        # ctest keeps only the start of a passing test's output: read lit's
        # own per-case results instead.
        try:
            lit = ET.parse(build + "/test/lit-results.xml").getroot()
        except (OSError, ET.ParseError):
            failed += 1
            continue
        for lc in lit.iter("testcase"):
            if lc.find("failure") is not None or lc.find("error") is not None:
                failed += 1
            elif lc.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
        if status == "fail" and not any(lc.find("failure") is not None for lc in lit.iter("testcase")):
            failed += 1
        continue
    if name == "conformance":
        try:
            rows = list(csv.DictReader(open(build + "/test-results/conformance.csv")))
        except OSError:
            rows = []
        if not rows:
            failed += 1
            continue
        for row in rows:
            if row["status"] == "pass":
                passed += 1
            elif row["status"] in ("skip", "xfail"):
                skipped += 1
            else:
                failed += 1
        if status == "fail" and not any(r["status"] in ("fail", "unexpected pass") for r in rows):
            failed += 1
        continue
    if case.find("skipped") is not None or status == "notrun" or status == "disabled":
        skipped += 1
    elif case.find("failure") is not None or status == "fail":
        failed += 1
    else:
        passed += 1
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed else 0)
