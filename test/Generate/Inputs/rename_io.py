"""rename_io.py IN.onnx OUT.onnx OLD=NEW...: the model with graph inputs and
outputs renamed (and every node input or output that names them)."""
import sys

import onnx

model = onnx.load(sys.argv[1])
names = dict(a.split("=", 1) for a in sys.argv[3:])
g = model.graph
for v in list(g.input) + list(g.output):
    v.name = names.get(v.name, v.name)
for n in g.node:
    for i, x in enumerate(n.input):
        n.input[i] = names.get(x, x)
    for i, x in enumerate(n.output):
        n.output[i] = names.get(x, x)
onnx.save(model, sys.argv[2])
