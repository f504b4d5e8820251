#!/usr/bin/python3
"""Sets one value of a JSON file in place (for tests that corrupt a plan).

usage: set_json.py FILE PATH VALUE

PATH is a dot-separated list of object keys and array indices
(`tasks.2.bodies.0.tasks.0.outputs.0`); VALUE is JSON (`7`, `null`,
`"f32"`, `[1, 2]`). The file is rewritten with two-space indentation.
"""
import json
import sys

if len(sys.argv) != 4:
    sys.exit(__doc__)
path, keys, value = sys.argv[1], sys.argv[2].split("."), json.loads(sys.argv[3])
doc = json.load(open(path))
node = doc
for k in keys[:-1]:
    node = node[int(k)] if isinstance(node, list) else node[k]
last = keys[-1]
if isinstance(node, list):
    node[int(last)] = value
else:
    node[last] = value
with open(path, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
