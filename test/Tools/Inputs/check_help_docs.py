#!/usr/bin/python3
"""Compares the flags each tool's --help lists with docs/tools.md, so that
the two cannot drift apart.

usage: check_help_docs.py DOCS/tools.md BIN_DIR

For every tool: the flags of `--help` (own flags; LLVM's generic --help-list,
--help-hidden, --print-options... excepted) must appear in the tool's section
of tools.md, and every flag in the first column of the section's tables must
be in `--help`. loom-opt: the Loom passes and pipelines of `--help` must be
the flags of the section's table, each row linking an existing lit test.
Prints one line per tool, `TOOL: help and docs agree` or what differs, and
exits 1 on any difference.
"""
import os
import re
import subprocess
import sys

DOCS, BIN = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(DOCS)))
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
# Options every LLVM tool has, documented once as "LLVM's generic options".
GENERIC = {"--help", "-h", "--help-list", "--help-hidden", "--help-list-hidden",
           "--print-options", "--print-all-options", "--version"}


def normalize(flag):
    """`-O0`, `-O1`, `-O2` are the values of the prefix option `-O`."""
    return "-O" if re.match(r"^-O\d$", flag) else flag.split("=")[0]


def section(text, title):
    """The text of `## title` up to the next `## ` heading."""
    m = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), text, re.S | re.M)
    return m.group(1) if m else ""


def table_flags(sec):
    """Flags in the first column of the section's tables."""
    flags = set()
    for line in sec.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            flags |= {normalize(f) for f in FLAG.findall(first)}
    return flags


def help_text(*args):
    r = subprocess.run([os.path.join(BIN, args[0])] + list(args[1:]),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.stdout


def llvm_help_flags(text):
    """Option names at the start of LLVM --help lines (`  --flag=<x>  - ...`)."""
    flags = set()
    for line in text.splitlines():
        m = re.match(r"^\s+(--?[A-Za-z][\w-]*)[=\s<]", line + " ")
        if m:
            flags.add(m.group(1))
    return flags


def tool_help_flags(text):
    """Flags at the start of the option lines of loom-run/loom-profile --help."""
    flags = set()
    for line in text.splitlines():
        m = re.match(r"^  (--?[A-Za-z][\w-]*)", line)
        if m:
            flags.add(m.group(1))
    return flags


def compare(tool, in_help, sec, documented):
    problems = []
    mentioned = {normalize(f) for f in FLAG.findall(sec)}
    missing = sorted(f for f in in_help - GENERIC if f not in mentioned)
    if missing:
        problems.append("in --help, not in docs: " + ", ".join(missing))
    extra = sorted(documented - in_help - GENERIC)
    if extra:
        problems.append("in the docs' tables, not in --help: " + ", ".join(extra))
    print("%s: %s" % (tool, "; ".join(problems) if problems else "help and docs agree"))
    return not problems


docs = open(DOCS).read()
ok = True

sec = section(docs, "loomc")
ok &= compare("loomc", llvm_help_flags(help_text("loomc", "--help")), sec,
              table_flags(sec))

sec = section(docs, "loom-run")
flags = tool_help_flags(help_text("loom-run", "--help")) | \
    tool_help_flags(help_text("loom-run", "--scenario", "--help")) | {"--scenario"} | \
    tool_help_flags(help_text("loom-run", "--generate", "--help")) | {"--generate"}
ok &= compare("loom-run", flags, sec, table_flags(sec))

sec = section(docs, "loom-profile")
ok &= compare("loom-profile", tool_help_flags(help_text("loom-profile", "--help")),
              sec, table_flags(sec))

# loom-translate: its translations and own flags (not MLIR's many generic ones).
sec = section(docs, "loom-translate")
text = help_text("loom-translate", "--help")
flags = {f for f in llvm_help_flags(text)
         if f in ("--import-onnx", "--onnx-text", "-o") or f.startswith("--plan-to-")}
ok &= compare("loom-translate", flags, sec, table_flags(sec))

# loom-opt: every Loom pass and pipeline, each row linking its lit test.
sec = section(docs, "loom-opt")
passes = {f for f in llvm_help_flags(help_text("loom-opt", "--help"))
          if f.startswith(("--loom-", "--plan-"))}
ok &= compare("loom-opt", passes, sec, table_flags(sec))
for line in sec.splitlines():
    for link in re.findall(r"\]\(\.\./([^)]+)\)", line):
        if not os.path.isfile(os.path.join(ROOT, link)):
            print("loom-opt: broken test link %s" % link)
            ok = False
sys.exit(0 if ok else 1)
