#!/usr/bin/python3
"""Writes models whose control flow depends on run-time values, with test data.

usage: gen_control_flow.py KIND OUT_DIR

Writes OUT_DIR/model.onnx and OUT_DIR/test_data_set_N/{input,output}_K.pb:
the expected outputs are computed here with numpy, from the ONNX semantics
of the graph, not by running any ONNX implementation.

  if_computed    an If on a computed condition (sum(x) > 0): the then branch
                 runs several ops on x and a captured weight, the else branch
                 passes x through (an Identity); the If's result feeds later ops
  if_classifier  a classifier head that branches on a computed value (the
                 argmax of the logits): one branch rescales the logits, the
                 other adds a bias; two outputs
  loop_count     a Loop whose trip count is a graph input (x <- x * 0.5 + i)
  loop_while     a Loop with a constant bound whose condition is computed
                 (x <- x * 2 while sum(x) < 100)
  loop_if        a Loop with a run-time trip count whose body holds an If on
                 a computed condition
  if_other_dims  an If on an input whose else branch holds only for other
                 input widths (x [1, n] times a [3, 2] weight): with n = 4
                 only the then branch is valid, as in a merged decoder
"""
import os
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N = helper.make_node
F = TensorProto.FLOAT


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def const(name, arr):
    return N("Constant", [], [name], name=name, value=numpy_helper.from_array(arr, name))


def if_computed():
    w = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
    then_g = helper.make_graph(
        [N("Relu", ["x"], ["r"], name="then_relu"),
         N("Mul", ["r", "w"], ["m"], name="then_mul"),
         N("Add", ["m", "x"], ["t"], name="then_add")],
        "then_branch", [], [vi("t", F, [2, 3])])
    # ONNX Runtime wants an Identity where a branch returns an outer value.
    else_g = helper.make_graph([N("Identity", ["x"], ["e"], name="else_keep")],
                               "else_branch", [], [vi("e", F, [2, 3])])
    nodes = [N("ReduceSum", ["x"], ["s"], name="sum", keepdims=0),
             const("zero", np.array(0, np.float32)),
             N("Greater", ["s", "zero"], ["c"], name="positive"),
             N("If", ["c"], ["b"], name="branch", then_branch=then_g, else_branch=else_g),
             N("Sigmoid", ["b"], ["y"], name="after")]
    g = helper.make_graph(nodes, "if_computed", [vi("x", F, [2, 3])], [vi("y", F, [2, 3])],
                          [numpy_helper.from_array(w, "w")])

    def ref(x):
        b = (np.maximum(x, 0) * w + x) if x.sum() > 0 else x
        return [1 / (1 + np.exp(-b))]
    xs = [np.array([[1, -2, 3], [0.5, 2, -1]], np.float32),
          np.array([[-1, -2, 3], [0.5, -2, -1]], np.float32)]
    return g, [([x], ref(x)) for x in xs]


def if_classifier():
    rng = np.random.default_rng(7)
    wf = (rng.standard_normal((8, 4)) * 0.5).astype(np.float32)
    bias = np.array([0.1, -0.2, 0.3, -0.4], np.float32)
    then_g = helper.make_graph(
        [N("Mul", ["logits", "half"], ["t0"], name="then_scale"),
         N("Softmax", ["t0"], ["t1"], name="then_softmax", axis=-1)],
        "then_branch", [], [vi("t1", F, [1, 4])])
    else_g = helper.make_graph(
        [N("Add", ["logits", "bias"], ["e0"], name="else_bias"),
         N("Softmax", ["e0"], ["e1"], name="else_softmax", axis=-1)],
        "else_branch", [], [vi("e1", F, [1, 4])])
    nodes = [N("MatMul", ["feat", "wf"], ["logits"], name="head"),
             N("ArgMax", ["logits"], ["am"], name="argmax", axis=1, keepdims=0),
             const("zero_i", np.array([0], np.int64)),
             N("Equal", ["am", "zero_i"], ["eq"], name="is_first"),
             N("Squeeze", ["eq", "ax0"], ["c"], name="cond"),
             N("If", ["c"], ["probs"], name="head_branch", then_branch=then_g,
               else_branch=else_g)]
    g = helper.make_graph(nodes, "if_classifier", [vi("feat", F, [1, 8])],
                          [vi("probs", F, [1, 4]), vi("logits", F, [1, 4])],
                          [numpy_helper.from_array(wf, "wf"),
                           numpy_helper.from_array(bias, "bias"),
                           numpy_helper.from_array(np.array(0.5, np.float32), "half"),
                           numpy_helper.from_array(np.array([0], np.int64), "ax0")])

    def softmax(v):
        e = np.exp(v - v.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def ref(feat):
        logits = feat @ wf
        p = softmax(logits * 0.5) if np.argmax(logits[0]) == 0 else softmax(logits + bias)
        return [p.astype(np.float32), logits.astype(np.float32)]
    cases, seen = [], set()
    for seed in range(40):
        feat = np.random.default_rng(100 + seed).standard_normal((1, 8)).astype(np.float32)
        first = bool(np.argmax((feat @ wf)[0]) == 0)
        if first not in seen:
            seen.add(first)
            cases.append(([feat], ref(feat)))
    assert len(cases) == 2, "the seeds must reach both branches"
    return g, cases


def loop_body_count():
    # (iter, cond_in, x) -> (cond_out, x * 0.5 + float(iter))
    return helper.make_graph(
        [N("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
         N("Cast", ["iter"], ["fi"], name="iter_f", to=F),
         N("Mul", ["x_in", "half"], ["h"], name="halve"),
         N("Add", ["h", "fi"], ["x_out"], name="add_iter")],
        "body", [vi("iter", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []),
                 vi("x_in", F, [4])],
        [vi("cond_out", TensorProto.BOOL, []), vi("x_out", F, [4])])


def loop_count():
    nodes = [N("Loop", ["n", "", "x"], ["y"], name="loop", body=loop_body_count())]
    g = helper.make_graph(nodes, "loop_count",
                          [vi("x", F, [4]), vi("n", TensorProto.INT64, [])],
                          [vi("y", F, [4])],
                          [numpy_helper.from_array(np.array(0.5, np.float32), "half")])

    def ref(x, n):
        for i in range(int(n)):
            x = x * np.float32(0.5) + np.float32(i)
        return [x.astype(np.float32)]
    x = np.array([1, 2, -3, 8], np.float32)
    return g, [([x, np.array(n, np.int64)], ref(x, n)) for n in (0, 1, 5)]


def loop_while():
    body = helper.make_graph(
        [N("Mul", ["x_in", "two"], ["x_out"], name="double"),
         N("ReduceSum", ["x_out"], ["s"], name="total", keepdims=0),
         N("Less", ["s", "limit"], ["cond_out"], name="below_limit")],
        "body", [vi("iter", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []),
                 vi("x_in", F, [3])],
        [vi("cond_out", TensorProto.BOOL, []), vi("x_out", F, [3])])
    nodes = [const("max_iter", np.array(20, np.int64)),
             const("go", np.array(True)),
             N("Loop", ["max_iter", "go", "x"], ["y"], name="loop", body=body)]
    g = helper.make_graph(nodes, "loop_while", [vi("x", F, [3])], [vi("y", F, [3])],
                          [numpy_helper.from_array(np.array(2, np.float32), "two"),
                           numpy_helper.from_array(np.array(100, np.float32), "limit")])

    def ref(x):
        for _ in range(20):
            x = x * np.float32(2)
            if not x.sum() < 100:
                break
        return [x]
    xs = [np.array([1, 2, 3], np.float32), np.array([30, 40, 50], np.float32),
          np.array([0.001, 0, 0], np.float32)]
    return g, [([x], ref(x)) for x in xs]


def loop_if():
    then_g = helper.make_graph([N("Sub", ["x_in", "one"], ["t"], name="then_sub")],
                               "then_branch", [], [vi("t", F, [2])])
    else_g = helper.make_graph([N("Add", ["x_in", "three"], ["e"], name="else_add")],
                               "else_branch", [], [vi("e", F, [2])])
    body = helper.make_graph(
        [N("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
         N("ReduceMax", ["x_in"], ["mx"], name="largest", keepdims=0),
         N("Greater", ["mx", "five"], ["big"], name="too_big"),
         N("If", ["big"], ["x_out"], name="step", then_branch=then_g, else_branch=else_g)],
        "body", [vi("iter", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []),
                 vi("x_in", F, [2])],
        [vi("cond_out", TensorProto.BOOL, []), vi("x_out", F, [2])])
    nodes = [N("Loop", ["n", "", "x"], ["y"], name="loop", body=body)]
    g = helper.make_graph(nodes, "loop_if",
                          # the output's shape left to the compiler, as
                          # torch.jit.script exports write it
                          [vi("x", F, [2]), vi("n", TensorProto.INT64, [])], [vi("y", F, ["d"])],
                          [numpy_helper.from_array(np.array(v, np.float32), k)
                           for k, v in (("one", 1), ("three", 3), ("five", 5))])

    def ref(x, n):
        for _ in range(int(n)):
            x = x - np.float32(1) if x.max() > 5 else x + np.float32(3)
        return [x]
    x = np.array([1, -2], np.float32)
    return g, [([x, np.array(n, np.int64)], ref(x, n)) for n in (0, 3, 7)]


def if_other_dims():
    wa = np.arange(8, dtype=np.float32).reshape(4, 2) / 8
    wb = np.arange(6, dtype=np.float32).reshape(3, 2) / 6
    then_g = helper.make_graph([N("MatMul", ["x", "wa"], ["t"], name="wide")],
                               "then_branch", [], [vi("t", F, [1, 2])])
    else_g = helper.make_graph([N("MatMul", ["x", "wb"], ["e"], name="narrow")],
                               "else_branch", [], [vi("e", F, [1, 2])])
    nodes = [N("If", ["use_wide"], ["y"], name="select", then_branch=then_g,
               else_branch=else_g)]
    g = helper.make_graph(nodes, "if_other_dims",
                          [vi("x", F, [1, "n"]), vi("use_wide", TensorProto.BOOL, [])],
                          [vi("y", F, [1, 2])],
                          [numpy_helper.from_array(wa, "wa"), numpy_helper.from_array(wb, "wb")])
    x = np.array([[1, -2, 3, 0.5]], np.float32)
    return g, [([x, np.array(True)], [x @ wa])]


KINDS = {"if_other_dims": if_other_dims, "if_computed": if_computed, "if_classifier": if_classifier,
         "loop_count": loop_count, "loop_while": loop_while, "loop_if": loop_if}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in KINDS:
        sys.exit(__doc__)
    kind, out = sys.argv[1], sys.argv[2]
    graph, cases = KINDS[kind]()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="pytorch")
    onnx.checker.check_model(model, full_check=True)
    os.makedirs(out, exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    names_in = [i.name for i in graph.input]
    names_out = [o.name for o in graph.output]
    for n, (ins, outs) in enumerate(cases):
        d = os.path.join(out, f"test_data_set_{n}")
        os.makedirs(d, exist_ok=True)
        for k, (name, arr) in enumerate(zip(names_in, ins)):
            t = numpy_helper.from_array(np.asarray(arr), name)
            open(os.path.join(d, f"input_{k}.pb"), "wb").write(t.SerializeToString())
        for k, (name, arr) in enumerate(zip(names_out, outs)):
            t = numpy_helper.from_array(np.asarray(arr), name)
            open(os.path.join(d, f"output_{k}.pb"), "wb").write(t.SerializeToString())


if __name__ == "__main__":
    main()
