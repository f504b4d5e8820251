//===- LoomQuantOps.td - Quantized ops of the loom dialect --*- tablegen -*-===//
//
// Quantized tensors carry the upstream `quant` dialect's types
// (`!quant.uniform<i8:f32, ...>`: per tensor, per axis, or sub-channel for
// group-wise int4 weights). The quantization passes insert `loom.quantize`,
// `loom.dequantize` and `loom.qconstant`; loom-fold-qdq forms the quantized
// kernels `loom.qmatmul` and `loom.qconv`. plan-from-loom passes the scales
// and zero points of the types to the runtime kernels as weights
// (docs/quantization.md, docs/fused-ops.md "Quantized kernels"). A separate
// tablegen unit, like the fused ops.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_QUANT_OPS
#define LOOM_QUANT_OPS

include "LoomBase.td"
include "mlir/Dialect/Quant/IR/QuantBase.td"

def Loom_QuantTensor : RankedTensorOf<[quant_QuantizedType]>;
def Loom_QFloatTensor : RankedTensorOf<[F32]>;
def Loom_QOrFloatTensor : AnyTypeOf<[Loom_QuantTensor, Loom_QFloatTensor]>;
def Loom_QOptFloatTensor : AnyTypeOf<[Loom_QFloatTensor, NoneType]>;

class Loom_QuantOp<string mnemonic, list<Trait> traits = []>
    : Loom_Op<mnemonic, !listconcat(traits, [Pure])> {
  let hasVerifier = 1;
}

def Loom_QuantizeOp : Loom_QuantOp<"quantize"> {
  let summary = "f32 -> quantized: saturate(round_half_even(x / scale) + zp)";
  let arguments = (ins Loom_QFloatTensor:$input);
  let results = (outs Loom_QuantTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Loom_DequantizeOp : Loom_QuantOp<"dequantize"> {
  let summary = "quantized -> f32: (q - zp) * scale";
  let arguments = (ins Loom_QuantTensor:$input);
  let results = (outs Loom_QFloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def Loom_QConstantOp : Loom_QuantOp<"qconstant"> {
  let summary = "A quantized constant: its stored integers and its type";
  let description = [{
    `value` holds the stored integers (i8 elements for i8, i4 and i2
    storage, ui8 for u8), in the result's shape; the result type says how
    they map to real numbers.

    `sparsity` = "2:4" marks a [K, N] weight pruned to at most two non-zero
    values in every group of four rows along K (K a multiple of 4), so that
    the plan stores only the kept values and their positions.
  }];
  let arguments = (ins ElementsAttr:$value, OptionalAttr<StrAttr>:$sparsity);
  let builders = [
    OpBuilder<(ins "::mlir::Type":$type, "::mlir::ElementsAttr":$value), [{
      build($_builder, $_state, type, value, ::mlir::StringAttr());
    }]>];
  let results = (outs Loom_QuantTensor:$output);
  let assemblyFormat = "attr-dict $value `->` type($output)";
}

/// The epilogue activation of a quantized producer (as the fused ops').
defvar QActivationArgs = (ins
    DefaultValuedAttr<StrAttr, "\"none\"">:$activation,
    OptionalAttr<F32Attr>:$activation_alpha,
    OptionalAttr<F32Attr>:$activation_beta);

def Loom_QMatMulOp : Loom_QuantOp<"qmatmul"> {
  let summary = "act(deq(A) @ deq(W) + bias), quantized if Y is";
  let description = [{
    A [..., M, K] is f32 (weight-only quantization, or `dynamic` = 1: the
    kernel quantizes A per tensor at run time) or per-tensor quantized; W
    [K, N] is a quantized constant (per tensor, per output channel or
    group-wise along K); bias is f32 [N] or none; Y is f32 or per-tensor
    quantized. Integer products accumulate in i32.
  }];
  let arguments = !con((ins Loom_QOrFloatTensor:$A, Loom_QuantTensor:$W,
                            Loom_QOptFloatTensor:$bias,
                            DefaultValuedAttr<I64Attr, "0">:$dynamic),
                       QActivationArgs);
  let results = (outs Loom_QOrFloatTensor:$Y);
  let assemblyFormat =
      "`(` operands `)` attr-dict `:` functional-type(operands, results)";
}

def Loom_QConvOp : Loom_QuantOp<"qconv"> {
  let summary = "act(Conv(deq(X), deq(W)) + bias), quantized if Y is";
  let description = [{
    ONNX Conv with a quantized constant W [O, I/group, k...] (per tensor, per
    output channel, or group-wise along axis 1), X f32 or per-tensor
    quantized, bias f32 [O] or none, Y f32 or per-tensor quantized.
  }];
  let arguments = !con((ins Loom_QOrFloatTensor:$X, Loom_QuantTensor:$W,
    Loom_QOptFloatTensor:$bias,
    DefaultValuedAttr<StrAttr, "\"NOTSET\"">:$auto_pad,
    OptionalAttr<DenseI64ArrayAttr>:$dilations,
    DefaultValuedAttr<I64Attr, "1">:$group,
    OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
    OptionalAttr<DenseI64ArrayAttr>:$pads,
    OptionalAttr<DenseI64ArrayAttr>:$strides,
    DefaultValuedAttr<I64Attr, "0">:$dynamic), QActivationArgs);
  let results = (outs Loom_QOrFloatTensor:$Y);
  let assemblyFormat =
      "`(` operands `)` attr-dict `:` functional-type(operands, results)";
}

#endif // LOOM_QUANT_OPS
