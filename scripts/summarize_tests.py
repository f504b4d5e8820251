#!/usr/bin/python3
"""Counts test cases across ctest's JUnit file and lit's own summary.

ctest runs lit as one test; this expands it into lit's cases so the closing
line counts every case once: gtest cases (one ctest test each) plus lit cases.
"""
import re
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
        out = "".join(case.itertext())
        for label, n in re.findall(r"^\s*(Passed|Failed|Unsupported|Expectedly Failed|Unresolved)\s*:\s*(\d+)", out, re.M):
            n = int(n)
            if label == "Passed":
                passed += n
            elif label in ("Failed", "Unresolved"):
                failed += n
            else:
                skipped += n
        if status not in ("run", "passed") and not re.search(r"Failed\s*:", out):
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
