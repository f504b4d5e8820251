//===- Float16.h - IEEE half and bfloat16 storage types ---------*- C++ -*-===//
//
// 16-bit float storage types with conversions to and from float. Conversions
// from float round to nearest even; NaN stays NaN and infinities saturate.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_FLOAT16_H
#define LOOM_RUNTIME_FLOAT16_H

#include <cstdint>
#include <cstring>

namespace loom::rt {

/// IEEE 754 binary16 bits -> float.
inline float halfBitsToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13); // inf or NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13); // normal
  } else if (mant == 0) {
    bits = sign; // zero
  } else {
    // Subnormal: normalize the mantissa.
    int shift = 0;
    while (!(mant & 0x400)) {
      mant <<= 1;
      ++shift;
    }
    mant &= 0x3ff;
    bits = sign | (uint32_t(113 - shift) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// float -> IEEE 754 binary16 bits, rounding to nearest even.
inline uint16_t floatToHalfBits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = uint16_t((x >> 16) & 0x8000);
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // inf or NaN (keep NaN quiet)
    return sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0);
  if (absx >= 0x477ff000u) // rounds to >= 65520: overflow to inf
    return sign | 0x7c00;
  if (absx < 0x38800000u) { // below the smallest normal half: subnormal/zero
    if (absx < 0x33000000u) // < 2^-25 rounds to zero
      return sign;
    // value = mant * 2^(exp - 150); the half subnormal unit is 2^-24.
    uint32_t exp = absx >> 23;
    uint32_t mant = (absx & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - exp; // in [14, 24]
    uint32_t q = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1)))
      ++q;
    return sign | uint16_t(q);
  }
  // Normal: rebias the exponent and round the mantissa to 10 bits.
  uint32_t r = absx - (112u << 23);
  uint32_t q = r >> 13;
  uint32_t rem = r & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (q & 1)))
    ++q;
  return sign | uint16_t(q);
}

/// bfloat16 bits -> float.
inline float bf16BitsToFloat(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// float -> bfloat16 bits, rounding to nearest even.
inline uint16_t floatToBf16Bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) // NaN: keep it a (quiet) NaN
    return uint16_t((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

/// IEEE half storage type; arithmetic goes through float.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  explicit Half(float f) : bits(floatToHalfBits(f)) {}
  explicit Half(double d) : Half(float(d)) {}
  static Half fromBits(uint16_t b) {
    Half h;
    h.bits = b;
    return h;
  }
  operator float() const { return halfBitsToFloat(bits); }
};

/// bfloat16 storage type; arithmetic goes through float.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  explicit BFloat16(float f) : bits(floatToBf16Bits(f)) {}
  explicit BFloat16(double d) : BFloat16(float(d)) {}
  static BFloat16 fromBits(uint16_t b) {
    BFloat16 h;
    h.bits = b;
    return h;
  }
  operator float() const { return bf16BitsToFloat(bits); }
};

} // namespace loom::rt

#endif // LOOM_RUNTIME_FLOAT16_H
