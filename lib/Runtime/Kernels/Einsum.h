//===- Einsum.h - The parsed form of an einsum call -----------------------===//
//
// einsumSpec parses and checks an einsum call's equation against its
// operands (Linalg.cpp): the reference kernel and the product fast path
// (EinsumFast.cpp) share it.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNELS_EINSUM_H
#define LOOM_RUNTIME_KERNELS_EINSUM_H

#include "loom/Runtime/Kernel.h"

#include <string>
#include <vector>

namespace loom::rt {

/// Label ids: 0..51 for letters, 52 + j for the j-th ellipsis dimension.
constexpr int kEllipsisBase = 52;

struct EinsumSpec {
  std::string equation;
  int numLabels = 0;
  /// Per label id: its size (-1: unused) and how many input dims carry it.
  std::vector<int64_t> size;
  std::vector<int> count;
  /// Per input, per dim: its label; the output's labels in order.
  std::vector<std::vector<int>> inLabels;
  std::vector<int> outLabels;
};

/// Parses `a`'s equation against its inputs; throws KernelError on a
/// malformed equation or operands that do not match it.
EinsumSpec einsumSpec(const KernelArgs &a);

/// The einsum fast path (EinsumFast.cpp; nothing without oneDNN).
void registerEinsumFastPath(KernelRegistry &registry);

} // namespace loom::rt

#endif // LOOM_RUNTIME_KERNELS_EINSUM_H
