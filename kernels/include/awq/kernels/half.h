#pragma once
// Portable IEEE 754 binary16 <-> binary32 conversion (host code, no intrinsics).
//
// float_to_half rounds to nearest, ties to even, like __float2half_rn and
// torch's .half(): values >= 65520 in magnitude become infinity, values below
// the smallest subnormal (2^-24) round to (signed) zero, subnormals are kept.
// NaN stays NaN (quiet bit set, top payload bits kept). half_to_float is exact.

#include <cstdint>
#include <cstring>

namespace awq::kernels {

inline float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;  // +-0
        } else {  // subnormal: normalize (value = mant * 2^-24)
            uint32_t e = 113;  // float exponent field of 2^-14
            while ((mant & 0x400u) == 0) {
                mant <<= 1;
                --e;
            }
            bits = sign | (e << 23) | ((mant & 0x3FFu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);  // inf / nan (payload kept)
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline uint16_t float_to_half(float f) {
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t a = x & 0x7FFFFFFFu;
    if (a >= 0x7F800000u) {
        if (a > 0x7F800000u)  // NaN: keep the top payload bits, force quiet
            return static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
        return static_cast<uint16_t>(sign | 0x7C00u);
    }
    if (a >= 0x477FF000u)  // >= 65520 rounds to infinity
        return static_cast<uint16_t>(sign | 0x7C00u);
    if (a < 0x38800000u) {  // below 2^-14: half subnormal or zero
        if (a <= 0x33000000u)  // <= 2^-25 (the tie at 2^-25 goes to even = 0)
            return sign;
        const uint32_t e = a >> 23;  // 102..112
        const uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
        const uint32_t shift = 126u - e;  // 14..24: units of 2^-24
        uint32_t r = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u);
        const uint32_t halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (r & 1u)))
            ++r;  // may carry into the smallest normal, which is correct
        return static_cast<uint16_t>(sign | r);
    }
    uint32_t h = (a - 0x38000000u) >> 13;  // rebias 127 -> 15
    const uint32_t rem = a & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        ++h;  // a mantissa carry bumps the exponent, as it should
    return static_cast<uint16_t>(sign | h);
}

// Round a float to the nearest fp16 value and return it as float.
inline float round_to_half(float f) { return half_to_float(float_to_half(f)); }

}  // namespace awq::kernels
