//===- LoomFusedOps.td - Fused ops of the loom dialect ------*- tablegen -*-===//
//
// The ops the fusion passes produce. Each mnemonic is also the runtime
// kernel name, and the attributes reach the kernel under the same names; the
// semantics are the contract in docs/fused-ops.md. A separate tablegen unit
// from the ONNX ops, so that changing a fused op does not rebuild the four
// generated shards.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_FUSED_OPS
#define LOOM_FUSED_OPS

include "LoomBase.td"

def Loom_FloatTensor : TensorOf<[F16, BF16, F32]>;
def Loom_OptFloatTensor : AnyTypeOf<[Loom_FloatTensor, NoneType]>;

class Loom_FusedOp<string mnemonic, list<Trait> traits = []>
    : Loom_Op<mnemonic, !listconcat(traits, [Pure])> {
  let assemblyFormat =
      "`(` operands `)` attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

/// The epilogue activation of a fused producer (docs/fused-ops.md).
defvar ActivationArgs = (ins
    DefaultValuedAttr<StrAttr, "\"none\"">:$activation,
    OptionalAttr<F32Attr>:$activation_alpha,
    OptionalAttr<F32Attr>:$activation_beta);

def Loom_FusedConvOp : Loom_FusedOp<"fused_conv"> {
  let summary = "Conv followed by an activation, one kernel";
  let arguments = !con((ins
    Loom_FloatTensor:$X, Loom_FloatTensor:$W, Loom_OptFloatTensor:$B,
    DefaultValuedAttr<StrAttr, "\"NOTSET\"">:$auto_pad,
    OptionalAttr<DenseI64ArrayAttr>:$dilations,
    DefaultValuedAttr<I64Attr, "1">:$group,
    OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
    OptionalAttr<DenseI64ArrayAttr>:$pads,
    OptionalAttr<DenseI64ArrayAttr>:$strides), ActivationArgs);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_FusedConvTransposeOp : Loom_FusedOp<"fused_conv_transpose"> {
  let summary = "ConvTranspose followed by an activation, one kernel";
  let arguments = !con((ins
    Loom_FloatTensor:$X, Loom_FloatTensor:$W, Loom_OptFloatTensor:$B,
    DefaultValuedAttr<StrAttr, "\"NOTSET\"">:$auto_pad,
    OptionalAttr<DenseI64ArrayAttr>:$dilations,
    DefaultValuedAttr<I64Attr, "1">:$group,
    OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
    OptionalAttr<DenseI64ArrayAttr>:$output_padding,
    OptionalAttr<DenseI64ArrayAttr>:$output_shape,
    OptionalAttr<DenseI64ArrayAttr>:$pads,
    OptionalAttr<DenseI64ArrayAttr>:$strides), ActivationArgs);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_FusedGemmOp : Loom_FusedOp<"fused_gemm"> {
  let summary = "Gemm followed by an activation, one kernel";
  let arguments = !con((ins
    Loom_FloatTensor:$A, Loom_FloatTensor:$B, Loom_OptFloatTensor:$C,
    DefaultValuedAttr<F32Attr, "1.0">:$alpha,
    DefaultValuedAttr<F32Attr, "1.0">:$beta,
    DefaultValuedAttr<I64Attr, "0">:$transA,
    DefaultValuedAttr<I64Attr, "0">:$transB), ActivationArgs);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_FusedMatMulOp : Loom_FusedOp<"fused_matmul"> {
  let summary = "act(alpha · (A' @ B') + bias), one kernel";
  let description = [{
    A' is A with its last two dimensions swapped when `trans_a` = 1 (B' and
    `trans_b` likewise); `@` is ONNX MatMul; `bias` broadcasts to the product.
  }];
  let arguments = !con((ins
    Loom_FloatTensor:$A, Loom_FloatTensor:$B, Loom_OptFloatTensor:$bias,
    DefaultValuedAttr<I64Attr, "0">:$trans_a,
    DefaultValuedAttr<I64Attr, "0">:$trans_b,
    DefaultValuedAttr<F32Attr, "1.0">:$alpha), ActivationArgs);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_RmsNormOp : Loom_FusedOp<"rms_norm"> {
  let summary = "X / sqrt(mean(X² over [axis, rank)) + epsilon) · scale";
  let arguments = (ins Loom_FloatTensor:$X, Loom_FloatTensor:$scale,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_GroupNormOp : Loom_FusedOp<"group_norm"> {
  let summary = "Group normalization of [N, C, ...] with per-channel affine";
  let arguments = (ins Loom_FloatTensor:$X, Loom_FloatTensor:$scale,
                       Loom_FloatTensor:$bias, I64Attr:$num_groups,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_SkipLayerNormOp : Loom_FusedOp<"skip_layer_norm"> {
  let summary = "Sum = X + S; Y = LayerNormalization(Sum)";
  let arguments = (ins Loom_FloatTensor:$X, Loom_FloatTensor:$S,
                       Loom_FloatTensor:$scale, Loom_OptFloatTensor:$bias,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Loom_FloatTensor:$Y, Loom_OptFloatTensor:$Sum);
}

def Loom_SkipRmsNormOp : Loom_FusedOp<"skip_rms_norm"> {
  let summary = "Sum = X + S; Y = rms_norm(Sum)";
  let arguments = (ins Loom_FloatTensor:$X, Loom_FloatTensor:$S,
                       Loom_FloatTensor:$scale,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs Loom_FloatTensor:$Y, Loom_OptFloatTensor:$Sum);
}

def Loom_GeluOp : Loom_FusedOp<"gelu"> {
  let summary = "GELU, erf form (approximate = none) or tanh form";
  let arguments = (ins Loom_FloatTensor:$X,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$approximate);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_SiluOp : Loom_FusedOp<"silu"> {
  let summary = "X · sigmoid(X)";
  let arguments = (ins Loom_FloatTensor:$X);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_AttentionOp : Loom_FusedOp<"attention"> {
  let summary = "Scaled dot-product attention with an explicit head layout";
  let description = [{
    Q [B, Hq, Sq, D]; K [B, Hkv, Sk, D] (or [B, Hkv, D, Sk] when
    `k_transposed` = 1); V [B, Hkv, Sk, Dv]; optional additive `mask`
    broadcasting to [B, Hq, Sq, Sk]; Y [B, Hq, Sq, Dv]. Query head h uses
    key/value head h / (Hq / Hkv) (grouped-query attention).
  }];
  let arguments = (ins Loom_FloatTensor:$Q, Loom_FloatTensor:$K,
                       Loom_FloatTensor:$V, Loom_OptFloatTensor:$mask,
                       F32Attr:$scale, I64Attr:$q_heads, I64Attr:$kv_heads,
                       DefaultValuedAttr<I64Attr, "0">:$k_transposed);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_SwiGluOp : Loom_FusedOp<"swiglu"> {
  let summary = "silu(X @ W1) ⊙ (X @ W3)";
  let arguments = (ins Loom_FloatTensor:$X, Loom_FloatTensor:$W1,
                       Loom_FloatTensor:$W3);
  let results = (outs Loom_FloatTensor:$Y);
}

def Loom_FusedElementwiseOp : Loom_Op<"fused_elementwise",
    [Pure, IsolatedFromAbove, SingleBlock]> {
  let summary = "A chain or tree of elementwise ops evaluated as one kernel";
  let description = [{
    The body's arguments are the inputs (same types); its ops are loom
    elementwise ops; `loom.fused_yield` gives the results, all of the op's
    result shape (every input broadcasts to it). `plan-from-loom` encodes the
    body as the program of docs/fused-ops.md.
  }];
  let arguments = (ins Variadic<Loom_FloatTensor>:$inputs);
  let results = (outs Variadic<Loom_FloatTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $inputs `)` attr-dict-with-keyword $body `:` functional-type($inputs, $results)
  }];
  let hasVerifier = 1;
}

def Loom_FusedYieldOp : Loom_Op<"fused_yield",
    [Pure, Terminator, ReturnLike, HasParent<"FusedElementwiseOp">]> {
  let summary = "Ends the body of loom.fused_elementwise";
  let arguments = (ins Variadic<AnyType>:$results);
  let assemblyFormat = "attr-dict ($results^ `:` type($results))?";
}

#endif // LOOM_FUSED_OPS
