// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-propagate-shapes,canonicalize))' | FileCheck %s

// An exporter-style flatten: Shape -> Gather -> Unsqueeze -> Concat -> Reshape
// folds to a constant shape and the Reshape gets a static result.
// CHECK-LABEL: func @fold_shape_chain
// CHECK-SAME: -> tensor<2x48xf32>
func.func @fold_shape_chain(%x: tensor<2x3x4x4xf32>) -> tensor<?x?xf32> {
  %zero = loom.constant dense<0> : tensor<i64>
  %axes = loom.constant dense<0> : tensor<1xi64>
  %m1 = loom.constant dense<-1> : tensor<1xi64>
  %s = loom.shape(%x) : (tensor<2x3x4x4xf32>) -> tensor<4xi64>
  %n = loom.gather(%s, %zero) {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %n1 = loom.unsqueeze(%n, %axes) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = loom.concat(%n1, %m1) {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // CHECK: %[[SHAPE:.*]] = loom.constant dense<[2, -1]> : tensor<2xi64>
  // CHECK: loom.reshape(%{{.*}}, %[[SHAPE]]) {{.*}} -> tensor<2x48xf32>
  %r = loom.reshape(%x, %shape) : (tensor<2x3x4x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// A dynamic reshape target that is not a constant stays dynamic.
// CHECK-LABEL: func @negative_unknown_shape
// CHECK: loom.reshape{{.*}} -> tensor<?x?xf32>
func.func @negative_unknown_shape(%x: tensor<2x3xf32>, %s: tensor<2xi64>) -> tensor<?x?xf32> {
  %r = loom.reshape(%x, %s) : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// Resize to a feature map's size, computed with Shape -> Slice -> Concat
// (torchvision's segmentation heads): the sizes fold and the result is static.
// CHECK-LABEL: func @fold_resize_sizes
// CHECK: loom.resize{{.*}} -> tensor<1x8x14x14xf32>
func.func @fold_resize_sizes(%x: tensor<1x8x7x7xf32>) -> tensor<?x?x?x?xf32> {
  %s = loom.shape(%x) : (tensor<1x8x7x7xf32>) -> tensor<4xi64>
  %zero = loom.constant dense<0> : tensor<1xi64>
  %two = loom.constant dense<2> : tensor<1xi64>
  %none = loom.none
  %nc = loom.slice(%s, %zero, %two, %zero, %none) : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<2xi64>
  %hw = loom.constant dense<14> : tensor<2xi64>
  %sizes = loom.concat(%nc, %hw) {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %y = loom.resize(%x, %none, %none, %sizes) {mode = "linear"} : (tensor<1x8x7x7xf32>, none, none, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return %y : tensor<?x?x?x?xf32>
}

// -----

// Resize by constant scales: floor(dimension * scale).
// CHECK-LABEL: func @resize_scales
// CHECK: loom.resize{{.*}} -> tensor<1x3x15x5xf32>
func.func @resize_scales(%x: tensor<1x3x10x10xf32>) -> tensor<?x?x?x?xf32> {
  %none = loom.none
  %scales = loom.constant dense<[1.0, 1.0, 1.5, 0.55]> : tensor<4xf32>
  %y = loom.resize(%x, %none, %scales, %none) : (tensor<1x3x10x10xf32>, none, tensor<4xf32>, none) -> tensor<?x?x?x?xf32>
  return %y : tensor<?x?x?x?xf32>
}

// -----

// Einsum: explicit and implicit outputs, and broadcast dimensions.
// CHECK-LABEL: func @einsum_shapes
// CHECK: loom.einsum{{.*}} -> tensor<5x7xf32>
// CHECK: loom.einsum{{.*}} -> tensor<4x6xf32>
// CHECK: loom.einsum{{.*}} -> tensor<2x3x4x6xf32>
func.func @einsum_shapes(%i: tensor<5xf32>, %j: tensor<7xf32>, %a: tensor<4x5xf32>, %b: tensor<5x6xf32>, %c: tensor<2x3x4x5xf32>) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?x?x?xf32>) {
  %outer = loom.einsum(%i, %j) {equation = "i,j->ij"} : (tensor<5xf32>, tensor<7xf32>) -> tensor<?x?xf32>
  %mm = loom.einsum(%a, %b) {equation = "ab,bc"} : (tensor<4x5xf32>, tensor<5x6xf32>) -> tensor<?x?xf32>
  %bmm = loom.einsum(%c, %b) {equation = "...ik,kj->...ij"} : (tensor<2x3x4x5xf32>, tensor<5x6xf32>) -> tensor<?x?x?x?xf32>
  return %outer, %mm, %bmm : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?x?x?xf32>
}

// -----

// Scatters keep the data's shape; GatherND and GatherElements follow their
// indices; DepthToSpace/SpaceToDepth move the block; TopK takes a constant k;
// OneHot a constant depth.
// CHECK-LABEL: func @index_and_layout_shapes
// CHECK: loom.scatter_nd{{.*}} -> tensor<4x4xf32>
// CHECK: loom.gather_nd{{.*}} -> tensor<3x4xf32>
// CHECK: loom.gather_elements{{.*}} -> tensor<2x4xf32>
// CHECK: loom.depth_to_space{{.*}} -> tensor<1x2x4x6xf32>
// CHECK: loom.space_to_depth{{.*}} -> tensor<1x8x2x3xf32>
// CHECK: loom.top_k{{.*}} -> (tensor<4x2xf32>, tensor<4x2xi64>)
// CHECK: loom.one_hot{{.*}} -> tensor<3x10xf32>
func.func @index_and_layout_shapes(%d: tensor<4x4xf32>, %i: tensor<3x1xi64>, %u: tensor<3x4xf32>, %ge: tensor<2x4xi64>, %x: tensor<1x8x2x3xf32>, %x2: tensor<1x2x4x6xf32>, %oh: tensor<3xi64>) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xi64>, tensor<?x?xf32>) {
  %s = loom.scatter_nd(%d, %i, %u) : (tensor<4x4xf32>, tensor<3x1xi64>, tensor<3x4xf32>) -> tensor<?x?xf32>
  %g = loom.gather_nd(%d, %i) : (tensor<4x4xf32>, tensor<3x1xi64>) -> tensor<?x?xf32>
  %e = loom.gather_elements(%d, %ge) {axis = 0 : i64} : (tensor<4x4xf32>, tensor<2x4xi64>) -> tensor<?x?xf32>
  %dts = loom.depth_to_space(%x) {blocksize = 2 : i64} : (tensor<1x8x2x3xf32>) -> tensor<?x?x?x?xf32>
  %std = loom.space_to_depth(%x2) {blocksize = 2 : i64} : (tensor<1x2x4x6xf32>) -> tensor<?x?x?x?xf32>
  %k = loom.constant dense<2> : tensor<1xi64>
  %v, %idx = loom.top_k(%d, %k) : (tensor<4x4xf32>, tensor<1xi64>) -> (tensor<?x?xf32>, tensor<?x?xi64>)
  %depth = loom.constant dense<10> : tensor<i64>
  %vals = loom.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %o = loom.one_hot(%oh, %depth, %vals) : (tensor<3xi64>, tensor<i64>, tensor<2xf32>) -> tensor<?x?xf32>
  return %s, %g, %e, %dts, %std, %v, %idx, %o : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xi64>, tensor<?x?xf32>
}

// -----

// Nested Ifs whose conditions fold one level at a time (as the Silero VAD
// export checks its sample rate, then shapes): the pass inlines each taken
// branch and refines what it exposes, in one run. The branch not taken is
// neither refined nor checked: its squeeze is invalid for these shapes (it
// serves another sample rate) and must not be an error.
// CHECK-LABEL: func @nested_constant_ifs
// CHECK-SAME: -> tensor<1x4xf32>
// CHECK-NOT: loom.if
// CHECK-NOT: loom.squeeze
// CHECK: loom.relu{{.*}} -> tensor<1x4xf32>
func.func @nested_constant_ifs(%x: tensor<1x4xf32>) -> tensor<*xf32> {
  %sr = loom.constant dense<16000> : tensor<i64>
  %k = loom.constant dense<16000> : tensor<i64>
  %is16k = loom.equal(%sr, %k) : (tensor<i64>, tensor<i64>) -> tensor<i1>
  %r = loom.if(%is16k) {
    %s = loom.shape(%x) : (tensor<1x4xf32>) -> tensor<2xi64>
    %zero = loom.constant dense<0> : tensor<i64>
    %n = loom.gather(%s, %zero) {axis = 0 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
    %one = loom.constant dense<1> : tensor<i64>
    %batch1 = loom.equal(%n, %one) : (tensor<i64>, tensor<i64>) -> tensor<i1>
    %inner = loom.if(%batch1) {
      %y = loom.relu(%x) : (tensor<1x4xf32>) -> tensor<*xf32>
      loom.yield %y : tensor<*xf32>
    } {
      %y = loom.neg(%x) : (tensor<1x4xf32>) -> tensor<*xf32>
      loom.yield %y : tensor<*xf32>
    } : (tensor<i1>) -> tensor<*xf32>
    loom.yield %inner : tensor<*xf32>
  } {
    %axes = loom.constant dense<1> : tensor<1xi64>
    %bad = loom.squeeze(%x, %axes) : (tensor<1x4xf32>, tensor<1xi64>) -> tensor<*xf32>
    loom.yield %bad : tensor<*xf32>
  } : (tensor<i1>) -> tensor<*xf32>
  return %r : tensor<*xf32>
}

// -----

// LSTM results from X [seq, batch, input] and hidden_size.
// CHECK-LABEL: func @lstm_shapes
// CHECK: loom.lstm{{.*}} -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
func.func @lstm_shapes(%x: tensor<5x2x3xf32>, %w: tensor<1x32x3xf32>, %r: tensor<1x32x8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = loom.none
  %y, %h, %c = loom.lstm(%x, %w, %r, %none, %none, %none, %none, %none) {hidden_size = 8 : i64} : (tensor<5x2x3xf32>, tensor<1x32x3xf32>, tensor<1x32x8xf32>, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %y, %h, %c : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}
