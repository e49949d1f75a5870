// cpu_ops.h loops compiled for the avx512 path (flags in kernels/CMakeLists.txt).
#include <immintrin.h>

#include <cstdint>

#include "ops_internal.h"

namespace awq::kernels::detail {
namespace {
#include "ops.inc"

// Head dimension 16·V (64 and 128 cover Llama, Mistral, Qwen2), up to QB query heads of a
// KV group at once so that each key and value row is loaded once for all of them: scores 16
// positions per FMA (one broadcast per dimension), the weighted sum of values with the
// output rows held in registers.
template <int V, int QB>
void attentionBlock(const float* q, const float* keysT, long ldk, const float* values, long ldv, int S, float scale,
                    float* scores, float* out) {
    constexpr int D = 16 * V;
    for (int s0 = 0; s0 < S; s0 += 32) {
        __mmask16 m[2];
        for (int i = 0; i < 2; ++i) {
            const int n = S - s0 - 16 * i;
            m[i] = n >= 16 ? static_cast<__mmask16>(0xFFFF) : (n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1u));
        }
        __m512 acc[QB][2];
        for (int h = 0; h < QB; ++h)
            acc[h][0] = acc[h][1] = _mm512_setzero_ps();
        for (int d = 0; d < D; ++d) {
            const float* k = keysT + d * ldk + s0;
            const __m512 k0 = _mm512_maskz_loadu_ps(m[0], k), k1 = _mm512_maskz_loadu_ps(m[1], k + 16);
            for (int h = 0; h < QB; ++h) {
                const __m512 qd = _mm512_set1_ps(q[h * D + d] * scale);
                acc[h][0] = _mm512_fmadd_ps(qd, k0, acc[h][0]);
                acc[h][1] = _mm512_fmadd_ps(qd, k1, acc[h][1]);
            }
        }
        for (int h = 0; h < QB; ++h) {
            _mm512_mask_storeu_ps(scores + h * S + s0, m[0], acc[h][0]);
            _mm512_mask_storeu_ps(scores + h * S + s0 + 16, m[1], acc[h][1]);
        }
    }
    float inv[QB];
    for (int h = 0; h < QB; ++h)
        inv[h] = softmaxInPlace(scores + h * S, S);
    __m512 o[QB][V];
    for (int h = 0; h < QB; ++h)
        for (int i = 0; i < V; ++i)
            o[h][i] = _mm512_setzero_ps();
    for (int s = 0; s < S; ++s) {
        const float* v = values + s * ldv;
        __m512 vr[V];
        for (int i = 0; i < V; ++i)
            vr[i] = _mm512_loadu_ps(v + 16 * i);
        for (int h = 0; h < QB; ++h) {
            const __m512 p = _mm512_set1_ps(scores[h * S + s] * inv[h]);
            for (int i = 0; i < V; ++i)
                o[h][i] = _mm512_fmadd_ps(p, vr[i], o[h][i]);
        }
    }
    for (int h = 0; h < QB; ++h)
        for (int i = 0; i < V; ++i)
            _mm512_storeu_ps(out + h * D + 16 * i, o[h][i]);
}

template <int V>
void attentionRows(const float* q, int queries, const float* keysT, long ldk, const float* values, long ldv, int S,
                   float scale, float* scores, float* out) {
    constexpr int D = 16 * V, QB = V == 4 ? 4 : 2;  // accumulators: QB x 2 scores, QB x V outputs
    int h = 0;
    for (; h + QB <= queries; h += QB)
        attentionBlock<V, QB>(q + h * D, keysT, ldk, values, ldv, S, scale, scores + static_cast<long>(h) * S,
                              out + h * D);
    for (; h < queries; ++h)
        attentionBlock<V, 1>(q + h * D, keysT, ldk, values, ldv, S, scale, scores + static_cast<long>(h) * S,
                             out + h * D);
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
