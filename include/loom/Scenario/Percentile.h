//===- Percentile.h - Nearest-rank percentile -------------------*- C++ -*-===//
//
// Header-only (plain C++): the scenario compiler's predicted latency
// distributions and loom-run --scenario's measured ones use one definition.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_SCENARIO_PERCENTILE_H
#define LOOM_SCENARIO_PERCENTILE_H

#include <algorithm>
#include <cmath>
#include <vector>

namespace loom::scenario {

/// The nearest-rank percentile `q` (in [0, 1]) of `v`; 0 for no values.
inline double percentile(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(q * double(v.size())));
  rank = std::min(std::max<size_t>(rank, 1), v.size());
  return v[rank - 1];
}

} // namespace loom::scenario

#endif // LOOM_SCENARIO_PERCENTILE_H
