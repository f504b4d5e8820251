// RUN: loom-opt %s -split-input-file -verify-diagnostics -loom-quantize=mode=int8
// RUN: not loom-opt %s -loom-quantize=mode=awq-w4 2>&1 | FileCheck %s --check-prefix=AWQ
// RUN: not loom-opt %s -loom-quantize=mode=w3 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not loom-opt %s "-loom-quantize=mode=w8 sparsity=1:2" 2>&1 | FileCheck %s --check-prefix=PATTERN
// RUN: not loom-opt %s "-loom-quantize=mode=int8 sparsity=2:4" 2>&1 | FileCheck %s --check-prefix=SPARSEMODE

// MODE: loom-quantize: unknown mode 'w3' (known: w8, w4, int8, awq-w4, dynamic, auto, ternary)
// PATTERN: loom-quantize: unknown sparsity '1:2' (known: 2:4)
// SPARSEMODE: loom-quantize: sparsity 2:4 goes with the weight-only modes w8, w4 and ternary, not int8
// AWQ: mode awq-w4 needs activation samples of this op (loom.calib_sample [T, 4]

func.func @int8_without_range(%a: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = loom.constant dense<1.0> : tensor<4x2xf32>
  // expected-error @+1 {{loom-quantize: mode int8 needs the activation range of this op (loom.calib_range, from loom-calibrate / --calibration-data)}}
  %y = loom.matmul(%a, %w) : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A SwiGLU is quantized too, so int8 needs the range of its X.
func.func @int8_swiglu_without_range(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = loom.constant dense<1.0> : tensor<4x2xf32>
  // expected-error @+1 {{loom-quantize: mode int8 needs the activation range of this op}}
  %y = loom.swiglu(%x, %w, %w) : (tensor<3x4xf32>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
