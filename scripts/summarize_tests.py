#!/usr/bin/python3
"""Counts the test cases of one test run: ctest's JUnit file, lit's and the
conformance run's.

  summarize_tests.py BUILD_DIR [--ctest-status N] [--since STAMP_FILE]
                     [--also BUILD_DIR:STATUS]...

--also adds the cases of a further ctest run (a sanitizer build's, its
results in BUILD_DIR/test-results/ctest.xml), with the same rules.

ctest runs lit and the ONNX conformance run as one test each; this expands
them into their cases so the closing line counts every case once: gtest cases
(one ctest test each), lit cases, and conformance tests (from its CSV:
pass -> passed; fail and unexpected pass -> failed; out of scope and expected
failures -> skipped).

Only this run's results count, and a test that could not run is a failure:
- a result file older than STAMP_FILE (written by scripts/test.sh before
  ctest starts) is stale: the case that should have written it failed;
- ctest's `notrun` is a skip only when the test itself asked to be skipped
  (SKIP_RETURN_CODE, SKIP_REGULAR_EXPRESSION: GoogleTest's GTEST_SKIP);
  "Unable to find executable", missing required files or a failed fixture
  are failures;
- when ctest exited non-zero (N) but no case above failed, the run still
  counts one failure, so the line never says "0 failed" after a failed run.
Exits 1 when anything failed.
"""
import argparse
import csv
import os
import sys
import xml.etree.ElementTree as ET

# ctest's <skipped message=...> for the tests that asked to be skipped.
ASKED_TO_SKIP = ("SKIP_RETURN_CODE", "SKIP_REGULAR_EXPRESSION_MATCHED")


def fresh(path, since):
    """Whether `path` exists and was written by this run."""
    if not os.path.exists(path):
        return False
    return since is None or os.path.getmtime(path) >= since


def count_lit(path, since, ctest_failed, counts, problems):
    """Adds lit's own per-case results to `counts`."""
    if not fresh(path, since):
        counts["failed"] += 1
        problems.append("lit wrote no results in this run (%s)" % path)
        return
    try:
        cases = list(ET.parse(path).getroot().iter("testcase"))
    except ET.ParseError as e:
        counts["failed"] += 1
        problems.append("lit's results are unreadable: %s" % e)
        return
    any_failed = False
    for lc in cases:
        if lc.find("failure") is not None or lc.find("error") is not None:
            counts["failed"] += 1
            any_failed = True
        elif lc.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    if ctest_failed and not any_failed:
        counts["failed"] += 1
        problems.append("lit failed without a failing case")


def count_conformance(path, since, ctest_failed, counts, problems):
    """Adds the conformance run's per-test rows to `counts`."""
    rows = []
    if fresh(path, since):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    if not rows:
        counts["failed"] += 1
        problems.append("the conformance run wrote no results in this run (%s)" % path)
        return
    any_failed = False
    for row in rows:
        if row["status"] == "pass":
            counts["passed"] += 1
        elif row["status"] in ("skip", "xfail"):
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
            any_failed = True
    if ctest_failed and not any_failed:
        counts["failed"] += 1
        problems.append("the conformance run failed without a failing test")


def summarize(build, ctest_status=None, since=None, extra=()):
    """-> (counts dict, [problem lines]). `extra`: (build folder, ctest status)
    of further ctest runs of this test run (the sanitizer builds')."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    problems = []
    for folder, status in [(build, ctest_status)] + list(extra):
        count_ctest(folder, status, since, counts, problems)
    return counts, problems


def count_ctest(build, ctest_status, since, counts, problems):
    """Adds the cases of the ctest run in `build` to `counts`."""
    failed_before = counts["failed"]
    ctest_xml = os.path.join(build, "test-results", "ctest.xml")
    if not fresh(ctest_xml, since):
        counts["failed"] += 1
        problems.append("ctest wrote no results in this run (%s)" % ctest_xml)
        return
    root = ET.parse(ctest_xml).getroot()
    for case in root.iter("testcase"):
        name = case.get("name")
        status = case.get("status")
        if name == "lit":
            count_lit(os.path.join(build, "test", "lit-results.xml"), since,
                      status == "fail", counts, problems)
        elif name == "conformance":
            count_conformance(os.path.join(build, "test-results", "conformance.csv"),
                              since, status == "fail", counts, problems)
        elif status == "disabled":
            counts["skipped"] += 1
        elif status == "notrun":
            skip = case.find("skipped")
            message = skip.get("message", "") if skip is not None else ""
            if message.startswith(ASKED_TO_SKIP):
                counts["skipped"] += 1
            else:
                counts["failed"] += 1
                problems.append("%s could not run: %s" % (name, message or "no reason"))
        elif status == "fail" or case.find("failure") is not None:
            counts["failed"] += 1
        else:
            counts["passed"] += 1
    if ctest_status and counts["failed"] == failed_before:
        counts["failed"] += 1
        problems.append("ctest exited with status %d but no case failed" % ctest_status)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", help="the build folder ctest ran in")
    ap.add_argument("--ctest-status", type=int, default=None,
                    help="ctest's exit status in this run")
    ap.add_argument("--since", help="a file written just before this run started; "
                    "result files older than it are stale")
    ap.add_argument("--also", action="append", default=[], metavar="BUILD_DIR:STATUS",
                    help="the build folder and exit status of a further ctest run "
                    "(repeatable)")
    args = ap.parse_args()
    extra = []
    for item in args.also:
        path, _, status = item.rpartition(":")
        if not path or not status.lstrip("-").isdigit():
            sys.exit("summarize_tests: --also %s: expected BUILD_DIR:STATUS" % item)
        extra.append((path, int(status)))
    since = None
    if args.since:
        if not os.path.exists(args.since):
            sys.exit("summarize_tests: %s: no such file" % args.since)
        since = os.path.getmtime(args.since)
    counts, problems = summarize(args.build, args.ctest_status, since, extra)
    for p in problems:
        print("summarize_tests: " + p)
    print("%d passed, %d failed, %d skipped" % (counts["passed"], counts["failed"],
                                                counts["skipped"]))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
