// RUN: loom-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(loom-check-static-shapes))' | FileCheck %s

// CHECK-LABEL: func @static_ok
func.func @static_ok(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = loom.relu(%a) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// expected-error @+1 {{input 'x' has type 'tensor<?x3xf32>' with unbound dimension(s) 0; bind them with --input-shape NAME=DxDx... or --dim PARAM=VALUE}}
func.func @negative_unbound_input(%a: tensor<?x3xf32> {loom.name = "x"}) -> tensor<?x3xf32> {
  return %a : tensor<?x3xf32>
}

// -----

// An ONNX dim_param is named, with the --dim flag that binds it.
// expected-error @+1 {{input 'ids' has type 'tensor<?x?xi64>' with unbound dimension(s) 0 ('batch') 1 ('seq'); bind them with --dim batch=VALUE --dim seq=VALUE (or --input-shape ids=DxDx...)}}
func.func @negative_unbound_dim_param(%a: tensor<?x?xi64> {loom.name = "ids", loom.dim_params = ["batch", "seq"]}) -> tensor<?x?xi64> {
  return %a : tensor<?x?xi64>
}

// -----

func.func @negative_dynamic_result(%a: tensor<6xf32>, %s: tensor<2xi64>) -> tensor<?x?xf32> {
  // expected-error @+1 {{result #0 of 'loom.reshape' has non-static type 'tensor<?x?xf32>'}}
  %r = loom.reshape(%a, %s) : (tensor<6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// The error names the operand whose values are unknown and the graph input
// they are computed from, with the remedy.
func.func @negative_shape_from_input(%a: tensor<6xf32>, %n: tensor<1xi64> {loom.name = "rows"}) -> tensor<?x?xf32> {
  %m1 = loom.constant dense<-1> : tensor<1xi64>
  %s = loom.concat(%n, %m1) {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // expected-error @+1 {{result #0 of 'loom.reshape' has non-static type 'tensor<?x?xf32>': its shape depends on the values of operand #1, computed at run time from graph input 'rows'; bind it with --const-input NAME=VALUE}}
  %r = loom.reshape(%a, %s) : (tensor<6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// A result whose size depends on the data (NonZero) cannot be bound away.
func.func @negative_data_dependent(%x: tensor<4xf32> {loom.name = "scores"}) -> tensor<1x?xi64> {
  // expected-error @+1 {{result #0 of 'loom.non_zero' has non-static type 'tensor<1x?xi64>': its shape depends on the values of operand #0, computed at run time from graph input 'scores'; the size of loom.non_zero's result depends on the data, which a static plan cannot hold}}
  %i = loom.non_zero(%x) : (tensor<4xf32>) -> tensor<1x?xi64>
  return %i : tensor<1x?xi64>
}
