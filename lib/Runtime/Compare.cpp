//===- Compare.cpp - Elementwise tensor comparison ------------------------===//
#include "loom/Runtime/Compare.h"

#include "loom/Runtime/Float16.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace loom::rt {

namespace {
/// Reads a `T` at element `i` of `t` (unaligned-safe).
template <typename T> T load(const Tensor &t, int64_t i) {
  T v;
  std::memcpy(&v, t.bytes.data() + size_t(i) * sizeof(T), sizeof(T));
  return v;
}

/// Element `i` of an integer or bool tensor, widened.
int64_t signedAt(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case DType::I8: return load<int8_t>(t, i);
  case DType::I16: return load<int16_t>(t, i);
  case DType::I32: return load<int32_t>(t, i);
  case DType::I64: return load<int64_t>(t, i);
  case DType::U8: return load<uint8_t>(t, i);
  case DType::U16: return load<uint16_t>(t, i);
  case DType::U32: return load<uint32_t>(t, i);
  case DType::Bool: return load<uint8_t>(t, i);
  default: return 0;
  }
}
} // namespace

std::string typeString(DType dtype, const Shape &shape) {
  std::string out = std::string(dtypeName(dtype)) + "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

double elementAsDouble(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case DType::F32: return load<float>(t, i);
  case DType::F64: return load<double>(t, i);
  case DType::F16: return halfBitsToFloat(load<uint16_t>(t, i));
  case DType::BF16: return bf16BitsToFloat(load<uint16_t>(t, i));
  case DType::U64: return double(load<uint64_t>(t, i));
  default: return double(signedAt(t, i));
  }
}

std::string elementToString(const Tensor &t, int64_t i) {
  if (isFloat(t.dtype)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", elementAsDouble(t, i));
    return buf;
  }
  if (t.dtype == DType::U64)
    return std::to_string(load<uint64_t>(t, i));
  if (t.dtype == DType::Bool)
    return load<uint8_t>(t, i) ? "true" : "false";
  return std::to_string(signedAt(t, i));
}

CompareResult compareTensors(const Tensor &got, const Tensor &want,
                             const CompareOptions &options) {
  CompareResult r;
  r.gotType = typeString(got.dtype, got.shape);
  r.wantType = typeString(want.dtype, want.shape);
  const int64_t n = want.numElements();
  const size_t bytes = size_t(n) * dtypeSize(want.dtype);
  if (got.dtype != want.dtype || got.shape != want.shape ||
      got.bytes.size() != bytes || want.bytes.size() != bytes) {
    r.match = r.sameType = false;
    return r;
  }
  r.numElements = n;
  const bool floating = isFloat(want.dtype);
  const size_t es = dtypeSize(want.dtype);
  for (int64_t i = 0; i < n; ++i) {
    bool ok;
    if (floating) {
      double a = elementAsDouble(got, i), b = elementAsDouble(want, i);
      if (std::isnan(a) || std::isnan(b) || std::isinf(a) || std::isinf(b)) {
        ok = (std::isnan(a) && std::isnan(b)) || a == b;
      } else {
        double abs = std::fabs(a - b);
        ok = abs <= options.atol + options.rtol * std::fabs(b);
        r.maxAbsError = std::max(r.maxAbsError, abs);
        if (b != 0)
          r.maxRelError = std::max(r.maxRelError, abs / std::fabs(b));
      }
    } else {
      ok = std::memcmp(got.bytes.data() + size_t(i) * es,
                       want.bytes.data() + size_t(i) * es, es) == 0;
      if (!ok) {
        double a = elementAsDouble(got, i), b = elementAsDouble(want, i);
        double abs = std::fabs(a - b);
        r.maxAbsError = std::max(r.maxAbsError, abs);
        if (b != 0)
          r.maxRelError = std::max(r.maxRelError, abs / std::fabs(b));
      }
    }
    if (!ok && r.mismatches++ == 0) {
      r.firstMismatch = i;
      r.firstGot = elementToString(got, i);
      r.firstWant = elementToString(want, i);
    }
  }
  r.match = r.mismatches == 0;
  return r;
}

std::string CompareResult::describe() const {
  if (!sameType)
    return "MISMATCH (got " + gotType + ", want " + wantType + ")";
  if (match)
    return "ok";
  return "MISMATCH (" + std::to_string(mismatches) + " of " +
         std::to_string(numElements) + " elements; first at " +
         std::to_string(firstMismatch) + ": got " + firstGot + ", want " +
         firstWant + ")";
}

} // namespace loom::rt
