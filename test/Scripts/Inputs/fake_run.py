#!/usr/bin/python3
"""Writes a fake build folder for summarize-tests.test.

  fake_run.py DIR CASE

CASE picks what this "run" left behind: a ctest JUnit file with the tests
named below, lit's results and the conformance CSV; `stale-lit` backdates
lit's results to before the run's start stamp.
"""
import os
import sys
import time

d, case = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(d, "test-results"), exist_ok=True)
os.makedirs(os.path.join(d, "test"), exist_ok=True)
stamp = os.path.join(d, "test-results", "started")
open(stamp, "w").close()
past = time.time() - 3600
os.utime(stamp, (past, past))

ctest_cases = {
    "pass": [("A.ok", "run", ""), ("A.skip", "notrun", '<skipped message="SKIP_REGULAR_EXPRESSION_MATCHED"/>'),
             ("lit", "run", ""), ("conformance", "run", "")],
    "missing-exe": [("A.ok", "run", ""), ("B_NOT_BUILT", "notrun", '<skipped message="Unable to find executable"/>'),
                    ("lit", "run", ""), ("conformance", "run", "")],
    "stale-lit": [("A.ok", "run", ""), ("lit", "run", ""), ("conformance", "run", "")],
    "ctest-failed": [("A.ok", "run", ""), ("lit", "run", ""), ("conformance", "run", "")],
}[case]
with open(os.path.join(d, "test-results", "ctest.xml"), "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuite>\n')
    for name, status, body in ctest_cases:
        f.write('<testcase name="%s" status="%s">%s</testcase>\n' % (name, status, body))
    f.write("</testsuite>\n")
lit = os.path.join(d, "test", "lit-results.xml")
with open(lit, "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite>\n'
            '<testcase name="a.test"/><testcase name="b.test"><skipped message="unsupported"/></testcase>\n'
            '</testsuite></testsuites>\n')
if case == "stale-lit":
    old = past - 60
    os.utime(lit, (old, old))
with open(os.path.join(d, "test-results", "conformance.csv"), "w") as f:
    f.write("test,status,category,data_sets,seconds,message\n"
            "node/a,pass,,1,0.1,\nnode/b,xfail,mismatch,1,0.1,x\nnode/c,skip,out of scope,0,0,y\n")
