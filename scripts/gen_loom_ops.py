#!/usr/bin/python3
"""Generate the ONNX-mirroring ops of the `loom` dialect from ONNX's own schemas.

Reads the operator schemas of the ONNX library (1.12, opset 17 of the default
domain) and writes:

  dialects/Loom/LoomOnnxOps.td        ODS records, one per ONNX operator in scope
  dialects/Loom/LoomOnnxOpsVerify.inc the generated part of each op's verifier
                                      (element types shared by a type variable)
  lib/Import/OnnxOpTable.inc          the importer's table: ONNX op type ->
                                      loom op name, formal inputs/outputs,
                                      attribute kinds and graph attributes

Regenerate after changing the op list or the mapping rules:

  /usr/bin/python3 scripts/gen_loom_ops.py

The outputs are committed; a lit test (test/Dialect/Loom/generated-up-to-date.test)
fails when they differ from what this script writes.
"""

import argparse
import os
import struct
import re
import sys

from onnx import defs

OPSET = 17

# Every operator of the default domain that Debian's libonnx-testdata uses,
# except random-number, sequence, optional and string operators (out of scope),
# and `Constant`, which the dialect models as the hand-written `loom.constant`.
OPS = """
Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool
BatchNormalization BitShift BlackmanWindow Cast CastLike Ceil Celu Clip
Compress Concat ConstantOfShape Conv ConvInteger ConvTranspose Cos Cosh CumSum
DFT DepthToSpace DequantizeLinear Det Div Dropout DynamicQuantizeLinear Einsum
Elu Equal Erf Exp Expand EyeLike Flatten Floor GRU Gather GatherElements
GatherND Gemm GlobalAveragePool GlobalMaxPool Greater GreaterOrEqual GridSample
HammingWindow HannWindow HardSigmoid HardSwish Hardmax Identity If
InstanceNormalization IsInf IsNaN LRN LSTM LayerNormalization LeakyRelu Less
LessOrEqual Log LogSoftmax Loop MatMul MatMulInteger Max MaxPool MaxUnpool Mean
MeanVarianceNormalization MelWeightMatrix Min Mod Mul Neg
NegativeLogLikelihoodLoss NonMaxSuppression NonZero Not OneHot Or PRelu Pad Pow
QLinearConv QLinearMatMul QuantizeLinear RNN Range Reciprocal ReduceL1 ReduceL2
ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd
ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence RoiAlign Round
STFT Scan ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh
Size Slice Softmax SoftmaxCrossEntropyLoss Softplus Softsign SpaceToDepth Split
Sqrt Squeeze Sub Sum Tan Tanh TfIdfVectorizer ThresholdedRelu Tile TopK
Transpose Trilu Unique Unsqueeze Where Xor
""".split()

# Operators whose verifier has hand-written ONNX constraints
# (dialects/Loom/LoomVerifiers.cpp, one `verify<Op>` function each).
HAND_VERIFIED = set("""
Concat Conv ConvTranspose Gemm MatMul Transpose Reshape Gather Softmax LogSoftmax
Flatten Split Squeeze Unsqueeze BatchNormalization AveragePool MaxPool Cast If
Loop Scan Range Expand Tile Slice Pad LayerNormalization CumSum Hardmax
ArgMax ArgMin DepthToSpace SpaceToDepth TopK OneHot Trilu Einsum Resize
""".split())

# Operators that implement the shape-inference interface with a hand-written
# helper (dialects/Loom/ShapeHelpers.cpp). Elementwise operators get theirs
# from the category below.
HAND_SHAPED = set("""
Concat Reshape Shape Size Gather Unsqueeze Squeeze Slice Cast CastLike Range
ConstantOfShape Expand Tile Transpose Flatten MatMul Gemm Conv ConvTranspose
AveragePool MaxPool GlobalAveragePool GlobalMaxPool Split Where Identity Dropout
ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin
ReduceProd ReduceSum ReduceSumSquare ArgMax ArgMin Pad If Loop EyeLike
Resize Einsum ScatterND ScatterElements GatherElements GatherND DepthToSpace
SpaceToDepth TopK OneHot GridSample RoiAlign LSTM GRU RNN
""".split())

# Operators with a folder (dialects/Loom/LoomFolders.cpp): what shape-computing
# subgraphs use, plus the identities.
FOLDED = set("""
Shape Size Gather Unsqueeze Squeeze Concat Slice Cast Range Add Sub Mul Div
Mod Identity Reshape ConstantOfShape Equal Less Greater Not Where Neg Abs Floor
Ceil Transpose Expand Max Min Flatten Relu ReduceMax ReduceMin ReduceProd ReduceSum
Reciprocal Sqrt
""".split())

# Operators with canonicalization patterns (dialects/Loom/LoomCanonicalize.cpp).
CANONICALIZED = {"Dropout", "If"}

# Elementwise operators: result shape is the broadcast of the operand shapes.
UNARY_ELEMENTWISE = set("""
Abs Acos Acosh Asin Asinh Atan Atanh Ceil Celu Cos Cosh Elu Erf Exp Floor
HardSigmoid HardSwish IsInf IsNaN LeakyRelu Log Neg Not Reciprocal Relu Round
Selu Shrink Sigmoid Sign Sin Sinh Softplus Softsign Sqrt Tan Tanh
ThresholdedRelu Softmax LogSoftmax Hardmax CumSum LRN InstanceNormalization
MeanVarianceNormalization BatchNormalization LayerNormalization Clip
QuantizeLinear DequantizeLinear Trilu
""".split())
BROADCAST_ELEMENTWISE = set("""
Add Sub Mul Div Pow Mod And Or Xor Equal Greater GreaterOrEqual Less
LessOrEqual BitShift Max Min Mean Sum PRelu
""".split())

# MLIR-style names where the mechanical conversion reads badly.
NAME_OVERRIDES = {
    "MatMul": "matmul",
    "MatMulInteger": "matmul_integer",
    "QLinearMatMul": "qlinear_matmul",
    "QLinearConv": "qlinear_conv",
    "IsNaN": "is_nan",
    "PRelu": "prelu",
    "LRN": "lrn",
    "GRU": "gru",
    "LSTM": "lstm",
    "RNN": "rnn",
    "DFT": "dft",
    "STFT": "stft",
    "GatherND": "gather_nd",
    "ScatterND": "scatter_nd",
    "TfIdfVectorizer": "tfidf_vectorizer",
}

ONNX_TYPES = {
    "float": "F32", "double": "F64", "float16": "F16", "bfloat16": "BF16",
    "int8": "I8", "int16": "I16", "int32": "I32", "int64": "I64",
    "uint8": "UI8", "uint16": "UI16", "uint32": "UI32", "uint64": "UI64",
    "bool": "I1",
}
TYPE_ORDER = ["I1", "I8", "I16", "I32", "I64", "UI8", "UI16", "UI32", "UI64",
              "BF16", "F16", "F32", "F64"]

# Attribute kinds shared with the importer (lib/Import/OnnxImporter.cpp).
A = defs.OpSchema.AttrType
ATTR_KIND = {A.INT: "Int", A.FLOAT: "Float", A.STRING: "String",
             A.INTS: "Ints", A.FLOATS: "Floats", A.STRINGS: "Strings",
             A.TENSOR: "Tensor", A.GRAPH: "Graph"}
ODS_ATTR = {"Int": "I64Attr", "Float": "F32Attr", "String": "StrAttr",
            "Ints": "DenseI64ArrayAttr", "Floats": "DenseF32ArrayAttr",
            "Strings": "StrArrayAttr", "Tensor": "ElementsAttr",
            "DType": "TypeAttr"}
# Attributes that hold an ONNX data type: imported as a TypeAttr.
DTYPE_ATTRS = {("Cast", "to"), ("EyeLike", "dtype"),
               ("MelWeightMatrix", "output_datatype")}
TABLEGEN_RESERVED = {"in", "def", "field", "class", "let", "code", "dag", "bit",
                     "bits", "int", "list", "string", "multiclass", "defm",
                     "foreach", "if", "then", "else", "assert", "defvar",
                     "defset", "include", "true", "false"}


def mlir_name(op):
    if op in NAME_OVERRIDES:
        return NAME_OVERRIDES[op]
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", op)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def ods_camel(name):
    """The accessor name ODS derives from an argument name."""
    out, up = [], True
    for i, c in enumerate(name):
        if c == "_" and i + 1 < len(name) and name[i + 1].islower():
            up = True
            continue
        out.append(c.upper() if up else c)
        up = False
    return "".join(out)


def arg_name(name):
    if name in TABLEGEN_RESERVED:
        return name + "_"
    return name


def allowed_types(schema, type_str):
    m = re.fullmatch(r"tensor\((\w+)\)", type_str)
    if m:
        strs = [type_str]
    else:
        strs = None
        for tc in schema.type_constraints:
            if tc.type_param_str == type_str:
                strs = list(tc.allowed_type_strs)
        assert strs is not None, (schema.name, type_str)
    out = set()
    for s in strs:
        m = re.fullmatch(r"tensor\((\w+)\)", s)
        if m and m.group(1) in ONNX_TYPES:
            out.add(ONNX_TYPES[m.group(1)])
    return [t for t in TYPE_ORDER if t in out]


def tensor_constraint(types):
    return "TensorOf<[%s]>" % ", ".join(types)


def format_default(kind, attr):
    v = attr.default_value
    if kind == "Int":
        return str(v.i)
    if kind == "Float":
        # Print the float the way ONNX stores it (a 32-bit value).
        f32 = struct.unpack("f", struct.pack("f", v.f))[0]
        r = "%.9g" % f32
        if "." not in r and "e" not in r and "inf" not in r and "nan" not in r:
            r += ".0"
        return r
    if kind == "String":
        return '"\\"%s\\""' % v.s.decode()
    if kind == "Ints":
        return '"{%s}"' % ", ".join(str(x) for x in v.ints)
    if kind == "Floats":
        return '"{%s}"' % ", ".join("%.9g" % x for x in v.floats)
    return None


def has_default(attr):
    v = attr.default_value
    return v is not None and v.name != ""


def gen(outdir):
    td = []
    verify = []
    table = []
    for op in OPS:
        s = defs.get_schema(op, OPSET, "")
        assert not s.deprecated, op
        cls = op + "Op"
        traits = []
        regions = []
        attrs = []
        table_attrs = []
        for name in sorted(s.attributes):
            a = s.attributes[name]
            kind = ATTR_KIND.get(a.type)
            if kind is None:
                continue
            if kind == "Graph":
                regions.append(name)
                table_attrs.append('{"%s", AttrKind::Graph}' % name)
                continue
            if (op, name) in DTYPE_ATTRS:
                kind = "DType"
            ods = ODS_ATTR[kind]
            if a.required:
                decl = ods
            elif has_default(a) and format_default(kind, a) is not None and kind != "DType":
                decl = "DefaultValuedAttr<%s, %s>" % (ods, format_default(kind, a)
                                                      if kind not in ("Int", "Float")
                                                      else '"%s"' % format_default(kind, a))
            else:
                decl = "OptionalAttr<%s>" % ods
            attrs.append("%s:$%s" % (decl, arg_name(name)))
            table_attrs.append('{"%s", AttrKind::%s}' % (name, kind))

        # Regions in the order ONNX documents them (If: then, else).
        regions.sort(key=lambda r: (r != "then_branch", r))
        table_attrs = [a for a in table_attrs if "AttrKind::Graph" not in a] + [
            '{"%s", AttrKind::Graph}' % r for r in regions]
        ins = []
        table_ins = []
        groups = {}
        for p in s.inputs:
            types = allowed_types(s, p.typeStr)
            c = tensor_constraint(types)
            opt = p.option
            if opt == defs.OpSchema.FormalParameterOption.Optional:
                c = "AnyTypeOf<[%s, NoneType]>" % c
                table_ins.append('{"%s", ParamKind::Optional}' % p.name)
            elif opt == defs.OpSchema.FormalParameterOption.Variadic:
                c = "Variadic<%s>" % c
                table_ins.append('{"%s", ParamKind::Variadic}' % p.name)
            else:
                table_ins.append('{"%s", ParamKind::Single}' % p.name)
            ins.append("%s:$%s" % (c, arg_name(p.name)))
            if not (opt == defs.OpSchema.FormalParameterOption.Variadic and not p.isHomogeneous):
                groups.setdefault(p.typeStr, []).append(("in", p))
        outs = []
        table_outs = []
        for p in s.outputs:
            types = allowed_types(s, p.typeStr)
            c = tensor_constraint(types)
            opt = p.option
            if opt == defs.OpSchema.FormalParameterOption.Optional:
                c = "AnyTypeOf<[%s, NoneType]>" % c
                table_outs.append('{"%s", ParamKind::Optional}' % p.name)
            elif opt == defs.OpSchema.FormalParameterOption.Variadic:
                c = "Variadic<%s>" % c
                table_outs.append('{"%s", ParamKind::Variadic}' % p.name)
            else:
                table_outs.append('{"%s", ParamKind::Single}' % p.name)
            outs.append("%s:$%s" % (c, arg_name(p.name)))
            if not (opt == defs.OpSchema.FormalParameterOption.Variadic and not p.isHomogeneous):
                groups.setdefault(p.typeStr, []).append(("out", p))

        if regions:
            traits.append("RecursiveMemoryEffects")
        else:
            traits.append("Pure")
        if op in HAND_SHAPED:
            traits.append("DeclareOpInterfaceMethods<Loom_ShapeInferenceOpInterface, [\"inferResultTypes\"]>")
        elif op in UNARY_ELEMENTWISE or op in BROADCAST_ELEMENTWISE:
            traits.append("Loom_ShapeInferenceOpInterface")
        if op in BROADCAST_ELEMENTWISE:
            traits.append("Loom_BroadcastingElementwise")
        if op in UNARY_ELEMENTWISE:
            traits.append("Loom_SameShapeAsFirstOperand")

        para = " ".join((s.doc or "").strip().split("\n\n")[0].split())
        summary = para.split(". ")[0].rstrip(".")
        if len(summary) > 90 or not summary or "`" in summary or "\\" in summary:
            summary = "ONNX %s operator" % op
        summary = summary.replace('"', "'")

        rec = []
        rec.append("def Loom_%s : Loom_OnnxOp<\"%s\", [%s]> {" % (cls, mlir_name(op), ", ".join(traits)))
        rec.append("  let summary = \"%s\";" % summary)
        rec.append("  let description = [{")
        rec.append("    Mirrors ONNX `%s` (default domain, opset %d form, since version %d)." % (op, OPSET, s.since_version))
        rec.append("    Attributes carry the ONNX names and defaults; absent optional inputs")
        rec.append("    and outputs are values of type `none`.")
        rec.append("  }];")
        rec.append("  let arguments = (ins%s);" % ("\n    " + ",\n    ".join(ins + attrs) if ins or attrs else ""))
        rec.append("  let results = (outs%s);" % ("\n    " + ",\n    ".join(outs) if outs else ""))
        if regions:
            rec.append("  let regions = (region %s);" % ", ".join("SizedRegion<1>:$%s" % r for r in regions))
            rec.append("  let assemblyFormat = \"`(` operands `)` %s attr-dict `:` functional-type(operands, results)\";" %
                       " ".join("$%s" % r for r in regions))
        rec.append("  let hasVerifier = 1;")
        if op in FOLDED:
            rec.append("  let hasFolder = 1;")
        if op in CANONICALIZED:
            rec.append("  let hasCanonicalizer = 1;")
        rec.append("  let onnxName = \"%s\";" % op)
        rec.append("}")
        td.append("\n".join(rec))

        # Verifier: values that share an ONNX type variable share an element type.
        body = []
        for tstr, members in sorted(groups.items()):
            if re.fullmatch(r"tensor\((\w+)\)", tstr):
                continue
            if len(members) < 2 and not any(p.option == defs.OpSchema.FormalParameterOption.Variadic for _, p in members):
                continue
            vals = []
            for side, p in members:
                getter = "get" + ods_camel(arg_name(p.name))
                if p.option == defs.OpSchema.FormalParameterOption.Variadic:
                    vals.append("  llvm::append_range(vs, %s());" % getter)
                else:
                    vals.append("  vs.push_back(%s());" % getter)
            body.append("  {\n    llvm::SmallVector<mlir::Value> vs;\n  %s\n    if (mlir::failed(detail::verifyTypeVariable(*this, \"%s\", vs)))\n      return mlir::failure();\n  }"
                        % ("\n  ".join(vals), tstr))
        tail = "  return verify%sOp(*this);" % op if op in HAND_VERIFIED else "  return mlir::success();"
        verify.append("llvm::LogicalResult %s::verify() {\n%s\n%s\n}\n" % (cls, "\n".join(body), tail))

        table.append('  {"%s", "loom.%s", %d, {%s}, {%s}, {%s}},' % (
            op, mlir_name(op), s.since_version, ", ".join(table_ins), ", ".join(table_outs), ", ".join(table_attrs)))

    header = "// Generated by scripts/gen_loom_ops.py from the ONNX %s operator schemas\n// (opset %d). Do not edit: change the script and rerun it.\n" % ("1.12", OPSET)
    hv = "\n".join("llvm::LogicalResult verify%sOp(%sOp op);" % (o, o) for o in OPS if o in HAND_VERIFIED)
    files = {
        "dialects/Loom/LoomOnnxOps.td": header + "\n#ifndef LOOM_ONNX_OPS\n#define LOOM_ONNX_OPS\n\ninclude \"LoomBase.td\"\n\n"
        + "\n\n".join(td) + "\n\n#endif // LOOM_ONNX_OPS\n",
        "dialects/Loom/LoomOnnxOpsVerify.inc": header + "\n" + "\n".join(verify),
        "dialects/Loom/LoomHandVerifiers.inc": header + "\n" + hv + "\n",
        "lib/Import/OnnxOpTable.inc": header + "\n" + "\n".join(table) + "\n",
    }
    for rel, text in files.items():
        path = os.path.join(outdir, rel)
        with open(path, "w") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), ".."),
                    help="repository root to write into (default: this checkout)")
    args = ap.parse_args()
    gen(args.out)


if __name__ == "__main__":
    sys.exit(main())
