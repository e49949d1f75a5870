// w4_prepare's per-row work with AVX-512, for K a multiple of 128: the nibble planes, the
// per-word sums and the fixed-point copy (Note [fixed-point activations] in
// w4_avx512_vnni.cpp). Bit for bit what the scalar path in w4_linear.cpp writes: the same
// float additions in the same order, and vcvtps2dq rounds to nearest even as lrint does in
// the default rounding mode. Measured: the scalar version took 6.6 us per call for K = 2048
// (lrint through the PLT per input), ~3 % of a TinyLlama decode step.
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "w4_internal.h"

namespace awq::kernels::detail {
namespace {

// out[4t + q] = the sum of lanes 4q .. 4q + 3 of the t-th argument (a, b, c, d).
__m512i sumLaneQuads(__m512i a, __m512i b, __m512i c, __m512i d) {
    auto quad = [](__m512i v) {
        v = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_CDAB));
        return _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_BADC));
    };
    const __m512i pick = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 28, 24, 20, 16, 12, 8, 4, 0);
    const __m512i ab = _mm512_permutex2var_epi32(quad(a), pick, quad(b));
    const __m512i cd = _mm512_permutex2var_epi32(quad(c), pick, quad(d));
    return _mm512_shuffle_i64x2(ab, cd, _MM_SHUFFLE(1, 0, 1, 0));
}

// As blockScale in w4_linear.cpp: max|x| / levels of a block loaded as x[0..7], 1 when the
// block is all zero or holds a non-finite value.
float blockScale(const __m512 x[8], float levels) {
    __m512 maxAbs = _mm512_abs_ps(x[0]);
    for (int j = 1; j < 8; ++j)
        maxAbs = _mm512_max_ps(maxAbs, _mm512_abs_ps(x[j]));
    const float m = _mm512_reduce_max_ps(maxAbs);
    return m > 0.0f && std::isfinite(m) ? m / levels : 1.0f;
}

// One block of 128 inputs, already loaded as x[0..7] (16 each).
void fixedPointBlock(const __m512 x[8], float* scale, float* wordSums, int8_t* out) {
    const float s = blockScale(x, 32639.0f);
    *scale = s;
    const __m512 inv = _mm512_set1_ps(1.0f / s);
    const __m512i evenLanes = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i oddLanes = _mm512_add_epi32(evenLanes, _mm512_set1_epi32(1));
    __m512i pairSums[4];
    for (int t = 0; t < 4; ++t) {  // inputs 32t .. 32t + 31
        const __m512i v0 = _mm512_cvtps_epi32(_mm512_mul_ps(x[2 * t], inv));
        const __m512i v1 = _mm512_cvtps_epi32(_mm512_mul_ps(x[2 * t + 1], inv));
        const __m512i even = _mm512_permutex2var_epi32(v0, evenLanes, v1);
        const __m512i odd = _mm512_permutex2var_epi32(v0, oddLanes, v1);
        pairSums[t] = _mm512_add_epi32(even, odd);
        // v = 256 h + l with h = (v + 128) >> 8: both signed bytes.
        const __m512i evenHigh = _mm512_srai_epi32(_mm512_add_epi32(even, _mm512_set1_epi32(128)), 8);
        const __m512i oddHigh = _mm512_srai_epi32(_mm512_add_epi32(odd, _mm512_set1_epi32(128)), 8);
        const __m512i evenLow = _mm512_sub_epi32(even, _mm512_slli_epi32(evenHigh, 8));
        const __m512i oddLow = _mm512_sub_epi32(odd, _mm512_slli_epi32(oddHigh, 8));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * t), _mm512_cvtepi32_epi8(evenHigh));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 64 + 16 * t), _mm512_cvtepi32_epi8(evenLow));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 128 + 16 * t), _mm512_cvtepi32_epi8(oddHigh));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 192 + 16 * t), _mm512_cvtepi32_epi8(oddLow));
    }
    // Word c of the block covers inputs 8c .. 8c + 7: lanes 4c' .. 4c' + 3 of pairSums[c / 4].
    const __m512i words = sumLaneQuads(pairSums[0], pairSums[1], pairSums[2], pairSums[3]);
    _mm512_storeu_ps(wordSums, _mm512_mul_ps(_mm512_cvtepi32_ps(words), _mm512_set1_ps(s)));
}

// The int8 copy of one block (w4_internal.h): s = max|x| / 127, v = round(x / s) in [-127, 127].
void int8Block(const __m512 x[8], float* scale, float* wordSums, int8_t* out) {
    const float s = blockScale(x, 127.0f);
    *scale = s;
    const __m512 inv = _mm512_set1_ps(1.0f / s);
    const __m512i evenLanes = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i oddLanes = _mm512_add_epi32(evenLanes, _mm512_set1_epi32(1));
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    __m512i pairSums[4];
    for (int t = 0; t < 4; ++t) {  // inputs 32t .. 32t + 31
        const __m512i v0 = _mm512_min_epi32(hi, _mm512_max_epi32(lo, _mm512_cvtps_epi32(_mm512_mul_ps(x[2 * t], inv))));
        const __m512i v1 =
            _mm512_min_epi32(hi, _mm512_max_epi32(lo, _mm512_cvtps_epi32(_mm512_mul_ps(x[2 * t + 1], inv))));
        const __m512i even = _mm512_permutex2var_epi32(v0, evenLanes, v1);
        const __m512i odd = _mm512_permutex2var_epi32(v0, oddLanes, v1);
        pairSums[t] = _mm512_add_epi32(even, odd);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * t), _mm512_cvtepi32_epi8(even));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 64 + 16 * t), _mm512_cvtepi32_epi8(odd));
    }
    const __m512i words = sumLaneQuads(pairSums[0], pairSums[1], pairSums[2], pairSums[3]);
    _mm512_storeu_ps(wordSums, _mm512_mul_ps(_mm512_cvtepi32_ps(words), _mm512_set1_ps(s)));
}

}  // namespace

void prepare_row_avx512(const float* xr, const Prepared& p, int m, bool floatParts, bool int8Copy) {
    float* planes = const_cast<float*>(p.planesOf(m));
    float* wordSums = const_cast<float*>(p.wordSumsOf(m));
    const __m512i wordStarts = _mm512_set_epi32(120, 112, 104, 96, 88, 80, 72, 64, 56, 48, 40, 32, 24, 16, 8, 0);
    for (int b = 0; b < p.B; ++b) {  // words 16b .. 16b + 15
        const float* xb = xr + 128 * b;
        __m512 x[8];
        for (int j = 0; j < 8; ++j)
            x[j] = _mm512_loadu_ps(xb + 16 * j);
        if (int8Copy)
            int8Block(x, const_cast<float*>(p.int8ScalesOf(m)) + b, const_cast<float*>(p.int8WordSumsOf(m)) + 16 * b,
                      const_cast<int8_t*>(p.int8BytesOf(m)) + 128 * b);
        if (!floatParts)
            continue;
        // planes[i][c] = x[8c + i]; wordSums[c] = x[8c] + ... + x[8c + 7], added in that order.
        __m512 sum = _mm512_setzero_ps();  // 0 + x, as the scalar path (-0 becomes +0)
        for (int i = 0; i < 8; ++i) {
            const __m512 plane = _mm512_i32gather_ps(_mm512_add_epi32(wordStarts, _mm512_set1_epi32(i)), xb, 4);
            _mm512_storeu_ps(planes + static_cast<std::size_t>(i) * p.W + 16 * b, plane);
            sum = _mm512_add_ps(sum, plane);
        }
        _mm512_storeu_ps(wordSums + 16 * b, sum);
        fixedPointBlock(x, const_cast<float*>(p.blockScalesOf(m)) + b,
                        const_cast<float*>(p.fixedWordSumsOf(m)) + 16 * b,
                        const_cast<int8_t*>(p.fixedBytesOf(m)) + 256 * b);
    }
}

}  // namespace awq::kernels::detail
