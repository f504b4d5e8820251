#!/usr/bin/python3
"""Writes structure-aware mutants of ONNX models, for loom-fuzz-import.

A byte fuzzer rarely gets past protobuf's framing to a model whose graph is
well formed but whose meaning is broken; this mutator starts from valid
models and breaks one to three things in them at the level of the ONNX
structures, the kinds of damage that made Loom's importer or ONNX's
libraries crash before (docs/fuzzing.md):

  subgraph   a control-flow body dropped, emptied or stripped of its outputs
  optype     a node's op type swapped for another (same inputs/attributes)
  opset      the default domain's opset version changed (old, new, absurd)
  dtype      a tensor's data type changed without its data
  rawdata    raw_data cut short, extended or moved to the typed fields
  dims       tensor and value dims made huge, negative or zero
  attr       an attribute's kind or value changed (0, -1, 2^31, 2^62, ...)
  order      nodes shuffled (a consumer before its producer)
  dangling   an input renamed to a value nothing produces
  duplicate  an output name produced twice, a graph output listed twice
  arity      node inputs or outputs dropped or added
  splice     a node of another seed model pasted into this one

Usage: mutate_onnx.py --out DIR --count N [--seed S] [--classes a,b] SEED...
SEED is a model file or a folder searched for *.onnx. The mutants are
DIR/mutant-NNNNNN-<classes>.onnx, the same for the same seed, count and
inputs. Exit 0; 2 on a usage error.
"""
import argparse
import os
import random
import sys

import onnx
from onnx import AttributeProto, TensorProto

CLASSES = ["subgraph", "optype", "opset", "dtype", "rawdata", "dims", "attr",
           "order", "dangling", "duplicate", "arity", "splice"]

# Op types worth swapping in: those whose shape inference or import does
# arithmetic on attributes and input shapes, and the control-flow ops.
OP_TYPES = ["Conv", "ConvTranspose", "MaxPool", "AveragePool", "Scan", "Loop", "If",
            "Reshape", "Expand", "Tile", "Slice", "Gather", "GatherND", "ScatterND",
            "Concat", "Split", "Squeeze", "Unsqueeze", "Transpose", "DepthToSpace",
            "SpaceToDepth", "Resize", "Pad", "Softmax", "LSTM", "GRU", "RNN", "TopK",
            "OneHot", "Range", "ConstantOfShape", "Shape", "Size", "Einsum", "MatMul",
            "Gemm", "BatchNormalization", "LayerNormalization", "Cast", "Where", "NonZero",
            "Flatten", "ReduceSum", "ReduceMean", "ArgMax", "CumSum", "Trilu",
            "QuantizeLinear", "DequantizeLinear", "QLinearConv", "MatMulInteger",
            "Col2Im", "GridSample", "Add", "Relu", "Identity", "Constant", "Dropout"]

INTERESTING_INTS = [0, 1, -1, 2, 3, 7, 255, 65536, 2**31 - 1, 2**31, -2**31, 2**32,
                    2**40, 2**62, 2**63 - 1, -2**63]
INTERESTING_FLOATS = [0.0, -0.0, 1e-45, -1.0, 1e38, float("inf"), float("-inf"), float("nan")]
DATA_TYPES = list(range(0, 22))


def all_graphs(graph):
    """`graph` and every subgraph in it, outermost first (no recursion)."""
    out, todo = [], [graph]
    while todo:
        g = todo.pop()
        out.append(g)
        for n in g.node:
            for a in n.attribute:
                if a.type == AttributeProto.GRAPH or a.HasField("g"):
                    todo.append(a.g)
                todo.extend(a.graphs)
    return out


def all_nodes(model):
    return [n for g in all_graphs(model.graph) for n in g.node]


def all_tensors(model):
    ts = []
    for g in all_graphs(model.graph):
        ts.extend(g.initializer)
        for n in g.node:
            for a in n.attribute:
                if a.HasField("t"):
                    ts.append(a.t)
                ts.extend(a.tensors)
    return ts


def all_value_infos(model):
    vs = []
    for g in all_graphs(model.graph):
        vs.extend(g.input)
        vs.extend(g.output)
        vs.extend(g.value_info)
    return vs


def value_names(graph):
    names = [i.name for i in graph.input] + [t.name for t in graph.initializer]
    for n in graph.node:
        names.extend(n.output)
    return [x for x in names if x]


def m_subgraph(r, model, seeds):
    holders = [(n, a) for n in all_nodes(model) for a in n.attribute
               if a.type == AttributeProto.GRAPH]
    if not holders:
        # make a control-flow node without a body, or with a bad one
        nodes = all_nodes(model)
        if not nodes:
            return False
        n = r.choice(nodes)
        n.op_type = r.choice(["If", "Loop", "Scan"])
        if r.random() < 0.5:
            a = n.attribute.add()
            a.name = r.choice(["body", "then_branch", "else_branch"])
            a.type = AttributeProto.GRAPH
            a.g.name = "empty"
        return True
    n, a = r.choice(holders)
    what = r.randrange(5)
    if what == 0:
        n.attribute.remove(a)
    elif what == 1:
        a.g.Clear()
    elif what == 2:
        del a.g.output[:]
    elif what == 3:
        del a.g.input[:]
    else:
        donor = all_nodes(r.choice(seeds))
        if donor:
            a.g.node.add().CopyFrom(r.choice(donor))
        a.type = r.choice([AttributeProto.GRAPH, AttributeProto.GRAPHS, AttributeProto.INT])
    return True


def m_optype(r, model, seeds):
    nodes = all_nodes(model)
    if not nodes:
        return False
    r.choice(nodes).op_type = r.choice(OP_TYPES)
    return True


def m_opset(r, model, seeds):
    ops = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if not ops:
        o = model.opset_import.add()
        o.domain = ""
        ops = [o]
    o = r.choice(ops)
    o.version = r.choice([1, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                          0, -1, 2**31, 2**62])
    if r.random() < 0.2:
        model.ir_version = r.choice([0, 1, 3, 7, 8, 9, 100])
    return True


def m_dtype(r, model, seeds):
    ts = all_tensors(model)
    vs = [v for v in all_value_infos(model) if v.type.HasField("tensor_type")]
    if ts and (not vs or r.random() < 0.6):
        r.choice(ts).data_type = r.choice(DATA_TYPES)
    elif vs:
        r.choice(vs).type.tensor_type.elem_type = r.choice(DATA_TYPES)
    else:
        return False
    return True


def m_rawdata(r, model, seeds):
    ts = all_tensors(model)
    if not ts:
        return False
    t = r.choice(ts)
    what = r.randrange(4)
    if what == 0 and t.raw_data:
        t.raw_data = t.raw_data[:r.randrange(len(t.raw_data))]
    elif what == 1:
        t.raw_data = (t.raw_data or b"") + bytes(r.randrange(1, 17))
    elif what == 2:
        # both raw_data and typed values, or typed values of another field
        t.float_data.extend([1.0] * r.randrange(0, 5))
        t.int64_data.extend([r.choice(INTERESTING_INTS)] * r.randrange(0, 5))
    else:
        t.data_location = TensorProto.EXTERNAL
        e = t.external_data.add()
        e.key = "location"
        e.value = r.choice(["weights.bin", "../etc/passwd", "/dev/zero", ""])
        if r.random() < 0.5:
            e = t.external_data.add()
            e.key = r.choice(["offset", "length"])
            e.value = str(r.choice(INTERESTING_INTS))
    return True


def m_dims(r, model, seeds):
    ts = all_tensors(model)
    vs = [v for v in all_value_infos(model)
          if v.type.HasField("tensor_type") and v.type.tensor_type.HasField("shape")]
    if ts and (not vs or r.random() < 0.5):
        t = r.choice(ts)
        if t.dims and r.random() < 0.7:
            t.dims[r.randrange(len(t.dims))] = r.choice(INTERESTING_INTS)
        else:
            t.dims.append(r.choice(INTERESTING_INTS))
    elif vs:
        shape = r.choice(vs).type.tensor_type.shape
        what = r.randrange(4)
        if what == 0 and shape.dim:
            shape.dim[r.randrange(len(shape.dim))].dim_value = r.choice(INTERESTING_INTS)
        elif what == 1 and shape.dim:
            shape.dim[r.randrange(len(shape.dim))].dim_param = r.choice(["N", "", "batch"])
        elif what == 2 and shape.dim:
            del shape.dim[r.randrange(len(shape.dim))]
        else:
            shape.dim.add().dim_value = r.choice(INTERESTING_INTS)
    else:
        return False
    return True


def m_attr(r, model, seeds):
    nodes = all_nodes(model)
    if not nodes:
        return False
    n = r.choice(nodes)
    if not n.attribute or r.random() < 0.25:
        a = n.attribute.add()
        a.name = r.choice(["axis", "axes", "strides", "pads", "kernel_shape", "dilations",
                           "group", "blocksize", "num_scan_inputs", "perm", "to", "value",
                           "keepdims", "mode", "direction", "hidden_size", "k", "equation"])
    else:
        a = r.choice(n.attribute)
    kind = r.choice([AttributeProto.INT, AttributeProto.INTS, AttributeProto.FLOAT,
                     AttributeProto.FLOATS, AttributeProto.STRING, AttributeProto.TENSOR,
                     AttributeProto.UNDEFINED, a.type, a.type])
    for f in ("i", "f", "s", "t", "g"):
        a.ClearField(f)
    for f in ("ints", "floats", "strings", "tensors", "graphs"):
        a.ClearField(f)
    a.type = kind
    if kind == AttributeProto.INT:
        a.i = r.choice(INTERESTING_INTS)
    elif kind == AttributeProto.INTS:
        a.ints.extend(r.choice(INTERESTING_INTS) for _ in range(r.randrange(0, 9)))
    elif kind == AttributeProto.FLOAT:
        a.f = r.choice(INTERESTING_FLOATS)
    elif kind == AttributeProto.FLOATS:
        a.floats.extend(r.choice(INTERESTING_FLOATS) for _ in range(r.randrange(0, 5)))
    elif kind == AttributeProto.STRING:
        a.s = r.choice([b"", b"NOTSET", b"constant", b"ij,jk->ik", b"\xff\x00", b"x" * 300])
    elif kind == AttributeProto.TENSOR:
        a.t.data_type = r.choice(DATA_TYPES)
        a.t.dims.extend(r.choice([0, 1, 2, 2**33]) for _ in range(r.randrange(0, 3)))
        a.t.raw_data = bytes(r.randrange(0, 9))
    return True


def m_order(r, model, seeds):
    gs = [g for g in all_graphs(model.graph) if len(g.node) > 1]
    if not gs:
        return False
    g = r.choice(gs)
    nodes = list(g.node)
    r.shuffle(nodes)
    del g.node[:]
    g.node.extend(nodes)
    return True


def m_dangling(r, model, seeds):
    nodes = [n for n in all_nodes(model) if n.input]
    if nodes and r.random() < 0.8:
        n = r.choice(nodes)
        n.input[r.randrange(len(n.input))] = r.choice(["ghost", "", n.output[0] if n.output else "x"])
    elif model.graph.output:
        model.graph.output[r.randrange(len(model.graph.output))].name = "ghost_out"
    else:
        return False
    return True


def m_duplicate(r, model, seeds):
    g = r.choice(all_graphs(model.graph))
    what = r.randrange(3)
    names = value_names(g)
    if what == 0 and len(g.node) >= 1 and names:
        n = r.choice(g.node)
        if n.output:
            n.output[r.randrange(len(n.output))] = r.choice(names)
            return True
    if what == 1 and g.output:
        g.output.add().CopyFrom(r.choice(g.output))
        return True
    if g.initializer and g.input:
        g.initializer[r.randrange(len(g.initializer))].name = r.choice(g.input).name
        return True
    if g.node:
        g.node.add().CopyFrom(r.choice(g.node))
        return True
    return False


def m_arity(r, model, seeds):
    nodes = all_nodes(model)
    if not nodes:
        return False
    n = r.choice(nodes)
    what = r.randrange(4)
    if what == 0 and n.input:
        del n.input[r.randrange(len(n.input))]
    elif what == 1:
        n.input.append(r.choice(["", "ghost"] + list(n.input)))
    elif what == 2 and n.output:
        del n.output[r.randrange(len(n.output))]
    else:
        n.output.append(r.choice(["", "extra", n.output[0] if n.output else "y"]))
    return True


def m_splice(r, model, seeds):
    donor = all_nodes(r.choice(seeds))
    if not donor:
        return False
    g = r.choice(all_graphs(model.graph))
    n = g.node.add()
    n.CopyFrom(r.choice(donor))
    names = value_names(g)
    for i in range(len(n.input)):
        if names and r.random() < 0.8:
            n.input[i] = r.choice(names)
    if g.node and r.random() < 0.5:
        # move it somewhere in the middle
        nodes = list(g.node)
        nodes.insert(r.randrange(len(nodes)), nodes.pop())
        del g.node[:]
        g.node.extend(nodes)
    return True


MUTATORS = {name: globals()["m_" + name] for name in CLASSES}


def load_seeds(paths, max_bytes):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(".onnx"))
        else:
            files.append(p)
    seeds = []
    for f in files:
        if os.path.getsize(f) > max_bytes:
            continue
        m = onnx.ModelProto()
        try:
            with open(f, "rb") as fh:
                m.ParseFromString(fh.read())
        except Exception:
            continue  # not a model: the byte fuzzer's business
        seeds.append(m)
    return seeds


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="classes: " + ", ".join(CLASSES))
    ap.add_argument("seeds", nargs="+", help="model files or folders of *.onnx")
    ap.add_argument("--out", required=True, help="folder the mutants are written to")
    ap.add_argument("--count", type=int, default=1000, help="number of mutants (default 1000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--classes", default=",".join(CLASSES),
                    help="comma-separated mutation classes (default all)")
    ap.add_argument("--max-seed-bytes", type=int, default=1 << 20,
                    help="skip seed models larger than this (default 1 MiB)")
    args = ap.parse_args(argv)
    classes = [c for c in args.classes.split(",") if c]
    unknown = [c for c in classes if c not in MUTATORS]
    if unknown:
        ap.error("unknown class(es) %s; known: %s" % (", ".join(unknown), ", ".join(CLASSES)))
    seeds = load_seeds(args.seeds, args.max_seed_bytes)
    if not seeds:
        ap.error("no seed model could be read from %s" % " ".join(args.seeds))
    os.makedirs(args.out, exist_ok=True)
    r = random.Random(args.seed)
    for i in range(args.count):
        m = onnx.ModelProto()
        m.CopyFrom(r.choice(seeds))
        applied = []
        for _ in range(r.randrange(1, 4)):
            c = r.choice(classes)
            if MUTATORS[c](r, m, seeds):
                applied.append(c)
        name = "mutant-%06d-%s.onnx" % (i, "-".join(applied) or "none")
        with open(os.path.join(args.out, name), "wb") as fh:
            fh.write(m.SerializeToString())
    print("mutate_onnx: wrote %d mutants of %d seed models to %s" % (args.count, len(seeds), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
