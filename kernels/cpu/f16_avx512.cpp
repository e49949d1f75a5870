// f16_gemv for the AVX-512 path: 16 weights widened per instruction, up to four activation
// rows per pass over a weight row (the loop is f16_gemv.inc).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "awq/kernels/half.h"

namespace awq::kernels::detail {
namespace {

struct Simd {
    using Vec = __m512;
    static constexpr int kLanes = 16;
    static Vec zero() { return _mm512_setzero_ps(); }
    static Vec widen(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    static Vec load(const float* p) { return _mm512_loadu_ps(p); }
    static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
    static float sum(Vec v) { return _mm512_reduce_add_ps(v); }
};

#include "f16_gemv.inc"

}  // namespace

void f16_gemv_avx512(const uint16_t* w, int K, const float* x, int ldx, int M, float* y, int ldy, int n0, int n1) {
    f16GemvGeneric(w, K, x, ldx, M, y, ldy, n0, n1);
}

}  // namespace awq::kernels::detail
