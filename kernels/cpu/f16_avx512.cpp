// f16_gemv for the avx512 path: 16 weights widened per instruction (F16C), up to four
// activation rows per pass over a weight row.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "awq/kernels/half.h"

namespace awq::kernels::detail {
namespace {

inline float horizontalSum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

template <int R>
void rows(const uint16_t* w, int K, const float* x, int ldx, int m0, float* y, int ldy, int n0, int n1) {
    const float* xr[R];
    for (int r = 0; r < R; ++r)
        xr[r] = x + static_cast<std::size_t>(m0 + r) * ldx;
    const int vecK = K / 16 * 16;
    for (int n = n0; n < n1; ++n) {
        const uint16_t* row = w + static_cast<std::size_t>(n) * K;
        __m512 acc[R];
        for (int r = 0; r < R; ++r)
            acc[r] = _mm512_setzero_ps();
        for (int k = 0; k < vecK; k += 16) {
            _mm_prefetch(reinterpret_cast<const char*>(row + k) + 4096, _MM_HINT_T0);
            const __m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + k)));
            for (int r = 0; r < R; ++r)
                acc[r] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(xr[r] + k), acc[r]);
        }
        for (int r = 0; r < R; ++r) {
            float sum = _mm512_reduce_add_ps(acc[r]);
            for (int k = vecK; k < K; ++k)
                sum += half_to_float(row[k]) * xr[r][k];
            y[static_cast<std::size_t>(m0 + r) * ldy + n] = sum;
        }
    }
}

}  // namespace

void f16_gemv_avx512(const uint16_t* w, int K, const float* x, int ldx, int M, float* y, int ldy, int n0, int n1) {
    int m = 0;
    for (; M - m >= 4; m += 4)
        rows<4>(w, K, x, ldx, m, y, ldy, n0, n1);
    switch (M - m) {
    case 3: rows<3>(w, K, x, ldx, m, y, ldy, n0, n1); break;
    case 2: rows<2>(w, K, x, ldx, m, y, ldy, n0, n1); break;
    case 1: rows<1>(w, K, x, ldx, m, y, ldy, n0, n1); break;
    default: break;
    }
}

}  // namespace awq::kernels::detail
