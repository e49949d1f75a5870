// W4 kernels for AVX2 + FMA + F16C, the portable vector path (same structure as
// w4_avx512.cpp with 8-lane vectors; see w4_linear.h, Note [one-plus-nibble]).
// GEMV packing: 8 words (64 inputs) per vector, up to 4 rows per pass.
// GEMM packing: 8 words = 64 channels per vector, one row per pass (8 accumulators
// fill half of the 16 registers); row passes run inside each channel block so the
// block's words are re-read from cache, not memory.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "awq/kernels/awq_format.h"
#include "awq/kernels/half.h"
#include "simd_avx2.h"
#include "w4_internal.h"

namespace awq::kernels::detail {
namespace {

#include "w4_dequant_rows.inc"

template <int i>
inline __m256 plane(__m256i words) {
    __m256i shifted;
    if constexpr (4 * i <= 19)
        shifted = _mm256_slli_epi32(words, 19 - 4 * i);
    else
        shifted = _mm256_srli_epi32(words, 4 * i - 19);
    const __m256i bits = _mm256_or_si256(_mm256_and_si256(shifted, _mm256_set1_epi32(0x00780000)),
                                         _mm256_set1_epi32(0x3F800000));
    return _mm256_castsi256_ps(bits);
}

inline __m256i tailMask(int valid) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), lanes);
}

// ---- GEMV packing ----------------------------------------------------------------

template <int R>
void gemvPackingRows(const W4Matrix& w, const Prepared& p, int m0, float* y, int ldy, int n0, int n1) {
    const int K = w.K, g = w.group, W = K / 8;
    const GemvPackedRows rows(w);
    const float* planeBase[R];
    const float* wordSums[R];
    for (int r = 0; r < R; ++r) {
        planeBase[r] = p.planesOf(m0 + r);
        wordSums[r] = p.wordSumsOf(m0 + r);
    }
    for (int n = n0; n < n1; ++n) {
        const GemvPackedRow packed = rows.row(n);
        const int32_t* q = packed.codes;
        const uint32_t* zr = packed.zeros;
        const uint16_t* sr = packed.scales;
        __m256 total[R];
        for (int r = 0; r < R; ++r)
            total[r] = _mm256_setzero_ps();
        for (int c = 0; c < W; c += 8) {
            const bool full = W - c >= 8;
            const __m256i mask = full ? _mm256_set1_epi32(-1) : tailMask(W - c);
            const __m256i words = full ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + c))
                                       : _mm256_maskload_epi32(q + c, mask);
            __m256 acc[R];
            for (int r = 0; r < R; ++r)
                acc[r] = _mm256_setzero_ps();
#define AWQ_PLANE(I)                                                                                                   \
    {                                                                                                                  \
        const __m256 f = plane<I>(words);                                                                              \
        for (int r = 0; r < R; ++r) {                                                                                  \
            const float* src = planeBase[r] + (I)*W + c;                                                               \
            acc[r] = _mm256_fmadd_ps(f, full ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, mask), acc[r]);         \
        }                                                                                                              \
    }
            AWQ_PLANE(0) AWQ_PLANE(1) AWQ_PLANE(2) AWQ_PLANE(3) AWQ_PLANE(4) AWQ_PLANE(5) AWQ_PLANE(6) AWQ_PLANE(7)
#undef AWQ_PLANE
            // Lanes of one chunk span one group (g a multiple of 64) or two (g = 32).
            const int gi0 = c * 8 / g;
            const int gi1 = g == 32 ? gi0 + 1 : gi0;
            const float s0 = half_to_float(sr[gi0]), s1 = half_to_float(sr[gi1]);
            const float z0 = static_cast<float>((zr[gi0 >> 3] >> (4 * (gi0 & 7))) & 0xFu);
            const float z1 = static_cast<float>((zr[gi1 >> 3] >> (4 * (gi1 & 7))) & 0xFu);
            const __m256 s16 = _mm256_setr_m128(_mm_set1_ps(16.0f * s0), _mm_set1_ps(16.0f * s1));
            const __m256 b = _mm256_setr_m128(_mm_set1_ps(s0 * (16.0f + z0)), _mm_set1_ps(s1 * (16.0f + z1)));
            for (int r = 0; r < R; ++r) {
                const __m256 ws = full ? _mm256_loadu_ps(wordSums[r] + c) : _mm256_maskload_ps(wordSums[r] + c, mask);
                total[r] = _mm256_fmadd_ps(acc[r], s16, total[r]);
                total[r] = _mm256_fnmadd_ps(b, ws, total[r]);
            }
        }
        for (int r = 0; r < R; ++r)
            y[static_cast<std::size_t>(m0 + r) * ldy + n] = horizontalSum(total[r]);
    }
}

// ---- GEMM packing ----------------------------------------------------------------

// Row m of the block of words j0..j0+nw-1 (channels 8*j0 .. 8*(j0+nw)-1).
void gemmPackingBlock(const W4Matrix& w, const float* x, int ldx, const Prepared& p, int m, float* y, int ldy, int j0,
                      int nw) {
    const int K = w.K, N = w.N, g = w.group, G = K / g, NW = N / 8;
    alignas(32) float total[8][8] = {};
    alignas(32) float scaleBuf[64] = {};
    const __m256i mask = tailMask(nw);
    const bool full = nw == 8;
    const float* xr = x + static_cast<std::size_t>(m) * ldx;
    for (int gi = 0; gi < G; ++gi) {
        __m256 acc[8];
        for (int i = 0; i < 8; ++i)
            acc[i] = _mm256_setzero_ps();
        const int32_t* q = w.qweight + static_cast<std::size_t>(gi) * g * NW + j0;
        for (int k = gi * g; k < (gi + 1) * g; ++k, q += NW) {
            const __m256i words =
                full ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)) : _mm256_maskload_epi32(q, mask);
            const __m256 xb = _mm256_broadcast_ss(xr + k);
            acc[0] = _mm256_fmadd_ps(plane<0>(words), xb, acc[0]);
            acc[1] = _mm256_fmadd_ps(plane<1>(words), xb, acc[1]);
            acc[2] = _mm256_fmadd_ps(plane<2>(words), xb, acc[2]);
            acc[3] = _mm256_fmadd_ps(plane<3>(words), xb, acc[3]);
            acc[4] = _mm256_fmadd_ps(plane<4>(words), xb, acc[4]);
            acc[5] = _mm256_fmadd_ps(plane<5>(words), xb, acc[5]);
            acc[6] = _mm256_fmadd_ps(plane<6>(words), xb, acc[6]);
            acc[7] = _mm256_fmadd_ps(plane<7>(words), xb, acc[7]);
        }
        const uint16_t* sr = w.scales + static_cast<std::size_t>(gi) * N + 8 * j0;
        for (int l = 0; l < nw; ++l)
            _mm256_store_ps(scaleBuf + 8 * l,
                            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sr + 8 * l))));
        const int32_t* zsrc = w.qzeros + static_cast<std::size_t>(gi) * NW + j0;
        const __m256i zwords =
            full ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zsrc)) : _mm256_maskload_epi32(zsrc, mask);
        const __m256 groupSum = _mm256_set1_ps(p.groupSumsOf(m)[gi]);
        for (int i = 0; i < 8; ++i) {
            const __m256i index = _mm256_add_epi32(_mm256_setr_epi32(0, 8, 16, 24, 32, 40, 48, 56),
                                                   _mm256_set1_epi32(AWQ_ORDER[i]));
            const __m256 s = _mm256_i32gather_ps(scaleBuf, index, 4);
            const __m256 z = _mm256_cvtepi32_ps(
                _mm256_and_si256(_mm256_srli_epi32(zwords, 4 * i), _mm256_set1_epi32(0xF)));
            const __m256 s16 = _mm256_mul_ps(s, _mm256_set1_ps(16.0f));
            const __m256 b = _mm256_fmadd_ps(s, z, s16);
            __m256 t = _mm256_load_ps(total[i]);
            t = _mm256_fmadd_ps(acc[i], s16, t);
            t = _mm256_fnmadd_ps(b, groupSum, t);
            _mm256_store_ps(total[i], t);
        }
    }
    float* yr = y + static_cast<std::size_t>(m) * ldy;
    for (int i = 0; i < 8; ++i)
        for (int l = 0; l < nw; ++l)
            yr[8 * (j0 + l) + AWQ_ORDER[i]] = total[i][l];
}

}  // namespace

bool gemv_avx2(const W4Matrix& w, const float* x, int ldx, const Prepared& p, int M, float* y, int ldy, int n0,
               int n1) {
    if (w.packing == W4Packing::Gemv) {
        if (!(w.group % 64 == 0 || w.group == 32))
            return false;
        forRowBlocks<4>(M, n0, n1, [&](auto rows, int m, int c0, int c1) {
            gemvPackingRows<decltype(rows)::value>(w, p, m, y, ldy, c0, c1);
        });
        return true;
    }
    for (int j0 = n0 / 8; j0 < (n1 + 7) / 8; j0 += 8) {
        const int nw = std::min(8, (n1 + 7) / 8 - j0);
        for (int m = 0; m < M; ++m)
            gemmPackingBlock(w, x, ldx, p, m, y, ldy, j0, nw);
    }
    return true;
}

void dequantize_rows_avx2(const W4Matrix& w, int n0, int n1, float* panel, int ldp) {
    dequantizeRowsGeneric(w, n0, n1, panel, ldp);
}

void dequantize_cols_avx2(const W4Matrix& w, int n0, int n1, float* panelT, int ldp) {
    dequantizeColsGeneric(w, n0, n1, panelT, ldp);
}

}  // namespace awq::kernels::detail
