//===- Poison.h - Output poisons for the kernel tests -----------*- C++ -*-===//
//
// A kernel under test writes into an output buffer filled with a poison
// byte, so an element it never writes keeps the poison. No single byte is
// unlike every valid value of every dtype: 0xA5 bytes read as f32 are
// -2.9e-16, which a relative tolerance forgives next to 0 (after relu, clip
// or hard_sigmoid), and any byte is a valid u8 / i8. So the tests run each
// kernel once per poison of kPoisons and check each result on its own:
//   - 0x7F bytes are 3.4e38 as f32 (no tolerance forgives it unless the
//     expected value is as large), 127 as i8 and u8;
//   - 0xFF bytes are NaN as f32 (the comparisons accept NaN only where the
//     expected value is NaN), -1 as i8 and 255 as u8.
// The two differ in every dtype by far more than any tolerance of these
// tests (integers: +-1), so an unwritten element fails at least one run.
// Where a test compares two runs of kernels with each other (fast path
// against reference, one thread against two), the two runs get different
// poisons, so an element that neither writes cannot match either.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_UNITTESTS_COMMON_POISON_H
#define LOOM_UNITTESTS_COMMON_POISON_H

#include <cstdint>
#include <string>

namespace loom::test {

inline constexpr uint8_t kPoisons[2] = {0x7F, 0xFF};

/// The other poison of kPoisons.
inline constexpr uint8_t otherPoison(uint8_t p) {
  return p == kPoisons[0] ? kPoisons[1] : kPoisons[0];
}

/// "poison 0x7F", for SCOPED_TRACE.
inline std::string poisonName(uint8_t p) {
  static const char *hex = "0123456789ABCDEF";
  return std::string("poison 0x") + hex[p >> 4] + hex[p & 15];
}

} // namespace loom::test

#endif // LOOM_UNITTESTS_COMMON_POISON_H
