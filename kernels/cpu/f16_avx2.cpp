// f16_gemv for the AVX2 path: 8 weights widened per instruction (F16C), up to four
// activation rows per pass over a weight row (the loop is f16_gemv.inc).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "awq/kernels/half.h"
#include "simd_avx2.h"

namespace awq::kernels::detail {
namespace {

struct Simd {
    using Vec = __m256;
    static constexpr int kLanes = 8;
    static Vec zero() { return _mm256_setzero_ps(); }
    static Vec widen(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static Vec load(const float* p) { return _mm256_loadu_ps(p); }
    static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
    static float sum(Vec v) { return horizontalSum(v); }
};

#include "f16_gemv.inc"

}  // namespace

void f16_gemv_avx2(const uint16_t* w, int K, const float* x, int ldx, int M, float* y, int ldy, int n0, int n1) {
    f16GemvGeneric(w, K, x, ldx, M, y, ldy, n0, n1);
}

}  // namespace awq::kernels::detail
