// RUN: loom-opt %s -split-input-file -loom-recompose-activations | FileCheck %s

// GELU, erf form as PyTorch exports it: ((x · (1 + erf(x / √2))) · 0.5).
// CHECK-LABEL: func @gelu_erf_torch
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[G:.*]] = loom.gelu(%[[X]]) : (tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_erf_torch(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = loom.constant dense<1.41421354> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %d = loom.div(%x, %sqrt2) : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %e = loom.erf(%d) : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %a = loom.add(%e, %one) : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %m = loom.mul(%x, %a) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = loom.mul(%m, %half) : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// BERT style: (x · 0.5) · (1 + erf(x · 1/√2)), constants as [1] tensors,
// operands commuted.
// CHECK-LABEL: func @gelu_erf_half_first
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[G:.*]] = loom.gelu(%[[X]]) : (tensor<4xf32>)
// CHECK-NEXT: return %[[G]]
func.func @gelu_erf_half_first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %rsqrt2 = loom.constant dense<0.707106769> : tensor<1xf32>
  %one = loom.constant dense<1.0> : tensor<1xf32>
  %half = loom.constant dense<5.000000e-01> : tensor<1xf32>
  %d = loom.mul(%rsqrt2, %x) : (tensor<1xf32>, tensor<4xf32>) -> tensor<4xf32>
  %e = loom.erf(%d) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%one, %e) : (tensor<1xf32>, tensor<4xf32>) -> tensor<4xf32>
  %h = loom.mul(%half, %x) : (tensor<1xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%a, %h) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// (0.5 · (1 + erf)) · x.
// CHECK-LABEL: func @gelu_erf_half_times_erf
// CHECK: loom.gelu
// CHECK-NOT: loom.erf
func.func @gelu_erf_half_times_erf(%x: tensor<4xf32>) -> tensor<4xf32> {
  %sqrt2 = loom.constant dense<1.41421354> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %d = loom.div(%x, %sqrt2) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %e = loom.erf(%d) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%e, %one) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %m = loom.mul(%half, %a) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%m, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// The wrong constant (x / 2 instead of x / √2): no GELU.
// CHECK-LABEL: func @negative_gelu_erf_wrong_constant
// CHECK-NOT: loom.gelu
// CHECK: loom.erf
func.func @negative_gelu_erf_wrong_constant(%x: tensor<4xf32>) -> tensor<4xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %d = loom.div(%x, %two) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %e = loom.erf(%d) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%e, %one) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %m = loom.mul(%x, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%m, %half) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// 1 + erf is also returned: no GELU.
// CHECK-LABEL: func @negative_gelu_erf_extra_use
// CHECK-NOT: loom.gelu
// CHECK: loom.erf
func.func @negative_gelu_erf_extra_use(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %sqrt2 = loom.constant dense<1.41421354> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %d = loom.div(%x, %sqrt2) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %e = loom.erf(%d) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%e, %one) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %m = loom.mul(%x, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%m, %half) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %y, %a : tensor<4xf32>, tensor<4xf32>
}

// -----

// The erf input is another value than the one multiplied: no GELU.
// CHECK-LABEL: func @negative_gelu_erf_two_inputs
// CHECK-NOT: loom.gelu
func.func @negative_gelu_erf_two_inputs(%x: tensor<4xf32>, %z: tensor<4xf32>) -> tensor<4xf32> {
  %sqrt2 = loom.constant dense<1.41421354> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %d = loom.div(%z, %sqrt2) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %e = loom.erf(%d) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%e, %one) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %m = loom.mul(%x, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%m, %half) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// GELU, tanh form as torch.nn.functional.gelu(approximate="tanh") exports
// it: 0.5 · (x · (1 + tanh(√(2/π) · (x + 0.044715 · (x · (x · x)))))).
// CHECK-LABEL: func @gelu_tanh_torch
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[G:.*]] = loom.gelu(%[[X]]) {approximate = "tanh"} : (tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_tanh_torch(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %beta = loom.constant dense<0.797884583> : tensor<f32>
  %kappa = loom.constant dense<4.471500e-02> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %sq = loom.mul(%x, %x) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %cube = loom.mul(%x, %sq) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %k = loom.mul(%kappa, %cube) : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %in = loom.add(%x, %k) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %s = loom.mul(%beta, %in) : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %t = loom.tanh(%s) : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %a = loom.add(%one, %t) : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %m = loom.mul(%x, %a) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = loom.mul(%half, %m) : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// GPT-2 / HF NewGELU: (0.5 · x) · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
// with x³ = Pow(x, 3), and (x · x) · x.
// CHECK-LABEL: func @gelu_tanh_pow
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[G:.*]] = loom.gelu(%[[X]]) {approximate = "tanh"}
// CHECK-NEXT: return %[[G]]
func.func @gelu_tanh_pow(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = loom.constant dense<3.0> : tensor<f32>
  %beta = loom.constant dense<0.797884583> : tensor<1xf32>
  %kappa = loom.constant dense<4.471500e-02> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %cube = loom.pow(%x, %three) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %k = loom.mul(%cube, %kappa) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %in = loom.add(%k, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %s = loom.mul(%in, %beta) : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
  %t = loom.tanh(%s) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%t, %one) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %h = loom.mul(%half, %x) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%h, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// CHECK-LABEL: func @gelu_tanh_cube_left
// CHECK: loom.gelu
// CHECK-SAME: approximate = "tanh"
// CHECK-NOT: loom.tanh
func.func @gelu_tanh_cube_left(%x: tensor<4xf32>) -> tensor<4xf32> {
  %beta = loom.constant dense<0.797884583> : tensor<f32>
  %kappa = loom.constant dense<4.471500e-02> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %sq = loom.mul(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %cube = loom.mul(%sq, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %k = loom.mul(%kappa, %cube) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %in = loom.add(%x, %k) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %s = loom.mul(%beta, %in) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %t = loom.tanh(%s) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%one, %t) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %m = loom.mul(%x, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%m, %half) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// x² instead of x³: no GELU.
// CHECK-LABEL: func @negative_gelu_tanh_square
// CHECK-NOT: loom.gelu
// CHECK: loom.tanh
func.func @negative_gelu_tanh_square(%x: tensor<4xf32>) -> tensor<4xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %beta = loom.constant dense<0.797884583> : tensor<f32>
  %kappa = loom.constant dense<4.471500e-02> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %cube = loom.pow(%x, %two) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %k = loom.mul(%cube, %kappa) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %in = loom.add(%k, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %s = loom.mul(%in, %beta) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %t = loom.tanh(%s) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%t, %one) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %h = loom.mul(%half, %x) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%h, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// A wrong kappa (0.05): no GELU.
// CHECK-LABEL: func @negative_gelu_tanh_kappa
// CHECK-NOT: loom.gelu
func.func @negative_gelu_tanh_kappa(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = loom.constant dense<3.0> : tensor<f32>
  %beta = loom.constant dense<0.797884583> : tensor<f32>
  %kappa = loom.constant dense<5.0e-02> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<f32>
  %cube = loom.pow(%x, %three) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %k = loom.mul(%cube, %kappa) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %in = loom.add(%k, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %s = loom.mul(%in, %beta) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %t = loom.tanh(%s) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%t, %one) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %h = loom.mul(%half, %x) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%h, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// SiLU, both operand orders.
// CHECK-LABEL: func @silu
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-NEXT: %[[S:.*]] = loom.silu(%[[X]]) : (tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: return %[[S]]
func.func @silu(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %s = loom.sigmoid(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = loom.mul(%x, %s) : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// CHECK-LABEL: func @silu_commuted
// CHECK-NEXT: loom.silu
// CHECK-NEXT: return
func.func @silu_commuted(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %s = loom.sigmoid(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = loom.mul(%s, %x) : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// The sigmoid is also returned; the sigmoid is of another value; not f32.
// CHECK-LABEL: func @negative_silu_extra_use
// CHECK-NOT: loom.silu
func.func @negative_silu_extra_use(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %s = loom.sigmoid(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%x, %s) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y, %s : tensor<4xf32>, tensor<4xf32>
}

// CHECK-LABEL: func @negative_silu_other_value
// CHECK-NOT: loom.silu
func.func @negative_silu_other_value(%x: tensor<4xf32>, %z: tensor<4xf32>) -> tensor<4xf32> {
  %s = loom.sigmoid(%z) : (tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%x, %s) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// CHECK-LABEL: func @negative_silu_f16
// CHECK-NOT: loom.silu
func.func @negative_silu_f16(%x: tensor<4xf16>) -> tensor<4xf16> {
  %s = loom.sigmoid(%x) : (tensor<4xf16>) -> tensor<4xf16>
  %y = loom.mul(%x, %s) : (tensor<4xf16>, tensor<4xf16>) -> tensor<4xf16>
  return %y : tensor<4xf16>
}

// -----

// HardSwish from HardSigmoid(alpha 1/6, beta 1/2).
// CHECK-LABEL: func @hard_swish_hard_sigmoid
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[H:.*]] = loom.hard_swish(%[[X]]) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT: return %[[H]]
func.func @hard_swish_hard_sigmoid(%x: tensor<4xf32>) -> tensor<4xf32> {
  %h = loom.hard_sigmoid(%x) {alpha = 0.166666672 : f32, beta = 5.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%h, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// The default alpha (0.2) is not HardSwish.
// CHECK-LABEL: func @negative_hard_swish_default_alpha
// CHECK-NOT: loom.hard_swish
func.func @negative_hard_swish_default_alpha(%x: tensor<4xf32>) -> tensor<4xf32> {
  %h = loom.hard_sigmoid(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%x, %h) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// x · relu6(x + 3) / 6, as hand-written MobileNetV3 code exports it.
// CHECK-LABEL: func @hard_swish_clip_div
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x2x2xf32>)
// CHECK-NEXT: %[[H:.*]] = loom.hard_swish(%[[X]])
// CHECK-NEXT: return %[[H]]
func.func @hard_swish_clip_div(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %three = loom.constant dense<3.0> : tensor<f32>
  %zero = loom.constant dense<0.0> : tensor<f32>
  %six = loom.constant dense<6.0> : tensor<f32>
  %a = loom.add(%x, %three) : (tensor<1x4x2x2xf32>, tensor<f32>) -> tensor<1x4x2x2xf32>
  %c = loom.clip(%a, %zero, %six) : (tensor<1x4x2x2xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x2x2xf32>
  %m = loom.mul(%x, %c) : (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %y = loom.div(%m, %six) : (tensor<1x4x2x2xf32>, tensor<f32>) -> tensor<1x4x2x2xf32>
  return %y : tensor<1x4x2x2xf32>
}

// x · (clip(3 + x, 0, 6) · 1/6).
// CHECK-LABEL: func @hard_swish_clip_mul_sixth
// CHECK-NEXT: loom.hard_swish
// CHECK-NEXT: return
func.func @hard_swish_clip_mul_sixth(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = loom.constant dense<3.0> : tensor<1xf32>
  %zero = loom.constant dense<0.0> : tensor<f32>
  %six = loom.constant dense<6.0> : tensor<f32>
  %sixth = loom.constant dense<0.166666672> : tensor<f32>
  %a = loom.add(%three, %x) : (tensor<1xf32>, tensor<4xf32>) -> tensor<4xf32>
  %c = loom.clip(%a, %zero, %six) : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  %d = loom.mul(%c, %sixth) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %y = loom.mul(%d, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// x · (clip(x + 3, 0, 6) / 6).
// CHECK-LABEL: func @hard_swish_clip_div_first
// CHECK-NEXT: loom.hard_swish
// CHECK-NEXT: return
func.func @hard_swish_clip_div_first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = loom.constant dense<3.0> : tensor<f32>
  %zero = loom.constant dense<0.0> : tensor<f32>
  %six = loom.constant dense<6.0> : tensor<f32>
  %a = loom.add(%x, %three) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %c = loom.clip(%a, %zero, %six) : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  %d = loom.div(%c, %six) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %y = loom.mul(%x, %d) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Clip bounds other than 0 and 6, a missing max, or a shift other than 3:
// no HardSwish.
// CHECK-LABEL: func @negative_hard_swish_clip_bounds
// CHECK-NOT: loom.hard_swish
func.func @negative_hard_swish_clip_bounds(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = loom.constant dense<3.0> : tensor<f32>
  %zero = loom.constant dense<0.0> : tensor<f32>
  %five = loom.constant dense<5.0> : tensor<f32>
  %six = loom.constant dense<6.0> : tensor<f32>
  %a = loom.add(%x, %three) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %c = loom.clip(%a, %zero, %five) : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  %m = loom.mul(%x, %c) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.div(%m, %six) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// CHECK-LABEL: func @negative_hard_swish_clip_no_max
// CHECK-NOT: loom.hard_swish
func.func @negative_hard_swish_clip_no_max(%x: tensor<4xf32>) -> tensor<4xf32> {
  %none = loom.none
  %three = loom.constant dense<3.0> : tensor<f32>
  %zero = loom.constant dense<0.0> : tensor<f32>
  %six = loom.constant dense<6.0> : tensor<f32>
  %a = loom.add(%x, %three) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %c = loom.clip(%a, %zero, %none) : (tensor<4xf32>, tensor<f32>, none) -> tensor<4xf32>
  %m = loom.mul(%x, %c) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.div(%m, %six) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// CHECK-LABEL: func @negative_hard_swish_clip_shift
// CHECK-NOT: loom.hard_swish
func.func @negative_hard_swish_clip_shift(%x: tensor<4xf32>) -> tensor<4xf32> {
  %two = loom.constant dense<2.0> : tensor<f32>
  %zero = loom.constant dense<0.0> : tensor<f32>
  %six = loom.constant dense<6.0> : tensor<f32>
  %a = loom.add(%x, %two) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %c = loom.clip(%a, %zero, %six) : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  %m = loom.mul(%x, %c) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.div(%m, %six) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// The product x · clip is also returned: no HardSwish.
// CHECK-LABEL: func @negative_hard_swish_clip_extra_use
// CHECK-NOT: loom.hard_swish
func.func @negative_hard_swish_clip_extra_use(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %three = loom.constant dense<3.0> : tensor<f32>
  %zero = loom.constant dense<0.0> : tensor<f32>
  %six = loom.constant dense<6.0> : tensor<f32>
  %a = loom.add(%x, %three) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %c = loom.clip(%a, %zero, %six) : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  %m = loom.mul(%x, %c) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.div(%m, %six) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %y, %m : tensor<4xf32>, tensor<4xf32>
}

// -----

// A [1, 1] constant broadcasts the product to another shape than x's: no
// GELU.
// CHECK-LABEL: func @negative_gelu_erf_broadcast
// CHECK-NOT: loom.gelu
func.func @negative_gelu_erf_broadcast(%x: tensor<4xf32>) -> tensor<1x4xf32> {
  %sqrt2 = loom.constant dense<1.41421354> : tensor<f32>
  %one = loom.constant dense<1.0> : tensor<f32>
  %half = loom.constant dense<5.000000e-01> : tensor<1x1xf32>
  %d = loom.div(%x, %sqrt2) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %e = loom.erf(%d) : (tensor<4xf32>) -> tensor<4xf32>
  %a = loom.add(%e, %one) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %m = loom.mul(%x, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = loom.mul(%m, %half) : (tensor<4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
