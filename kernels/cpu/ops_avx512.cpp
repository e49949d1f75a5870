// cpu_ops.h loops compiled for the avx512 path (flags in kernels/CMakeLists.txt).
#include <immintrin.h>

#include <cstdint>

#include "ops_internal.h"

namespace awq::kernels::detail {
namespace {
#include "ops.inc"

// Head dimension 16·V (64 and 128 cover Llama, Mistral, Qwen2): scores 64 positions at a time
// in four registers (one broadcast FMA per dimension), and the weighted sum of values with the
// output row held in V registers.
template <int V>
void attentionRows(const float* q, int queries, const float* keysT, long ldk, const float* values, long ldv, int S,
                   float scale, float* scores, float* out) {
    constexpr int D = 16 * V;
    for (int h = 0; h < queries; ++h) {
        const float* qh = q + static_cast<long>(h) * D;
        float* sc = scores + static_cast<long>(h) * S;
        for (int s0 = 0; s0 < S; s0 += 64) {
            __mmask16 m[4];
            for (int i = 0; i < 4; ++i) {
                const int n = S - s0 - 16 * i;
                m[i] = n >= 16 ? static_cast<__mmask16>(0xFFFF) : (n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1u));
            }
            __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int d = 0; d < D; ++d) {
                const __m512 qd = _mm512_set1_ps(qh[d] * scale);
                const float* k = keysT + d * ldk + s0;
                for (int i = 0; i < 4; ++i)
                    acc[i] = _mm512_fmadd_ps(qd, _mm512_maskz_loadu_ps(m[i], k + 16 * i), acc[i]);
            }
            for (int i = 0; i < 4; ++i)
                _mm512_mask_storeu_ps(sc + s0 + 16 * i, m[i], acc[i]);
        }
        const float inv = softmaxInPlace(sc, S);
        __m512 o[V];
        for (int i = 0; i < V; ++i)
            o[i] = _mm512_setzero_ps();
        for (int s = 0; s < S; ++s) {
            const __m512 p = _mm512_set1_ps(sc[s] * inv);
            const float* v = values + s * ldv;
            for (int i = 0; i < V; ++i)
                o[i] = _mm512_fmadd_ps(p, _mm512_loadu_ps(v + 16 * i), o[i]);
        }
        for (int i = 0; i < V; ++i)
            _mm512_storeu_ps(out + static_cast<long>(h) * D + 16 * i, o[i]);
    }
}
}  // namespace

void rms_norm_avx512(const float* x, const float* weight, int rows, int n, float eps, float* out) {
    rmsNormGeneric(x, weight, rows, n, eps, out);
}
void silu_mul_avx512(const float* gateUp, int rows, int n, float* out) { siluMulGeneric(gateUp, rows, n, out); }
void attention_rows_avx512(const float* q, int queries, const float* keysT, long ldk, const float* values, long ldv,
                           int S, int D, float scale, float* scores, float* out) {
    switch (D) {
    case 64: return attentionRows<4>(q, queries, keysT, ldk, values, ldv, S, scale, scores, out);
    case 128: return attentionRows<8>(q, queries, keysT, ldk, values, ldv, S, scale, scores, out);
    default: return attentionRowsGeneric(q, queries, keysT, ldk, values, ldv, S, D, scale, scores, out);
    }
}

}  // namespace awq::kernels::detail
