//===- Compare.h - Elementwise tensor comparison ----------------*- C++ -*-===//
//
// The one comparison used by loom-run and the tests: floats match when
// |got - want| <= atol + rtol * |want| (NaN matches NaN, an infinity only
// itself); integers and bools match exactly; a dtype or shape difference is a
// mismatch.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_COMPARE_H
#define LOOM_RUNTIME_COMPARE_H

#include "loom/Runtime/Kernel.h"

#include <cstdint>
#include <string>

namespace loom::rt {

struct CompareOptions {
  double rtol = 1e-3;
  double atol = 1e-5;
};

struct CompareResult {
  /// Whether every element matches (and dtype and shape agree).
  bool match = true;
  /// False when the dtypes or shapes differ (no element was compared).
  bool sameType = true;
  int64_t numElements = 0;
  int64_t mismatches = 0;
  /// Largest |got - want| and |got - want| / |want| over the elements where
  /// both are finite numbers (the relative error skips want == 0).
  double maxAbsError = 0;
  double maxRelError = 0;
  /// The first mismatching element (-1 when none) and its values, printed.
  int64_t firstMismatch = -1;
  std::string firstGot, firstWant;
  /// For a dtype/shape mismatch: both types, e.g. "f32[2,3]".
  std::string gotType, wantType;

  /// "ok", or "MISMATCH (k of n elements; first at i: got g, want w)", or
  /// "MISMATCH (got f32[2], want f32[3])".
  std::string describe() const;
};

/// Compares `got` with `want` elementwise.
CompareResult compareTensors(const Tensor &got, const Tensor &want,
                             const CompareOptions &options = {});

/// Element `i` of a tensor as double (any dtype; bool is 0 or 1).
double elementAsDouble(const Tensor &t, int64_t i);

/// Text of element `i`: integers exactly, floats with 9 significant digits.
std::string elementToString(const Tensor &t, int64_t i);

/// "f32[1,3,224,224]".
std::string typeString(DType dtype, const Shape &shape);

} // namespace loom::rt

#endif // LOOM_RUNTIME_COMPARE_H
