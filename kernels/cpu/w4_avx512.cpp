// W4 kernels for AVX-512 (F, BW, VL, DQ; compiled with those flags, called only when
// the CPU has them). See w4_linear.h, Note [one-plus-nibble], for the arithmetic.
//
// GEMV packing ([N][K/8]): one output channel at a time; 16 words (128 inputs) per
// vector, nibble i of every word is "plane i", multiplied with x's plane i (prepared
// once per call). Up to 8 activation rows share each unpacked plane.
// GEMM packing ([K][N/8]): 16 words = 128 output channels per vector; for each input k,
// plane i holds channels 8j + AWQ_ORDER[i]; x[k] is broadcast. Up to 3 rows at once
// (8 accumulators per row); per group the plane-ordered sums are scaled into a small
// buffer and scattered to y at the end of the block.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "awq/kernels/awq_format.h"
#include "awq/kernels/half.h"
#include "w4_avx512_lanes.h"
#include "w4_internal.h"

namespace awq::kernels::detail {
namespace {

#include "w4_dequant_rows.inc"

// Weight stream prefetch: 32 KiB ahead into L2. Measured with `awq bench --kernels` (weights
// from memory): 4 KiB into L1 15-16 GB/s, none 17-20 GB/s, 16-64 KiB into L2 20-22 GB/s.
constexpr int kPrefetchBytes = 32768;

// f = 1 + q/16 for nibble `i` of each 32-bit lane: move it to mantissa bits 19..22,
// keep only those, OR in the exponent of 1.0 (one vpternlogd: (a & b) | c).
template <int i>
inline __m512 plane(__m512i words) {
    const __m512i mant = _mm512_set1_epi32(0x00780000);
    const __m512i one = _mm512_set1_epi32(0x3F800000);
    __m512i shifted;
    if constexpr (4 * i <= 19)
        shifted = _mm512_slli_epi32(words, 19 - 4 * i);
    else
        shifted = _mm512_srli_epi32(words, 4 * i - 19);
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(shifted, mant, one, 0xEA));
}

template <int i, int R>
inline void planeFma(__m512i words, const float* const* planes, int offset, __mmask16 mask, __m512* acc) {
    const __m512 f = plane<i>(words);
    for (int r = 0; r < R; ++r)
        acc[r] = _mm512_fmadd_ps(f, _mm512_maskz_loadu_ps(mask, planes[r] + offset), acc[r]);
}

// ---- GEMV packing ----------------------------------------------------------------

template <int R>
void gemvPackingRows(const W4Matrix& w, const Prepared& p, int m0, float* y, int ldy, int n0, int n1) {
    const int K = w.K, g = w.group, W = K / 8;
    const GemvPackedRows rows(w);
    const ChunkGroups groups(g);
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
        __m512 total[R];
        for (int r = 0; r < R; ++r)
            total[r] = _mm512_setzero_ps();
        for (int c = 0; c < W; c += 16) {
            const __mmask16 mask = W - c >= 16 ? static_cast<__mmask16>(0xFFFF)
                                               : static_cast<__mmask16>((1u << (W - c)) - 1u);
            // Software prefetch a few KiB ahead in the weight stream (the next rows): the
            // hardware prefetcher alone left this loop at ~40% of the streaming bandwidth.
            _mm_prefetch(reinterpret_cast<const char *>(q + c) + kPrefetchBytes, _MM_HINT_T1);
            const __m512i words = _mm512_maskz_loadu_epi32(mask, q + c);
            __m512 acc[R];
            for (int r = 0; r < R; ++r)
                acc[r] = _mm512_setzero_ps();
            const float* planes[R];
            for (int r = 0; r < R; ++r)
                planes[r] = planeBase[r] + c;
            planeFma<0, R>(words, planes, 0 * W, mask, acc);
            planeFma<1, R>(words, planes, 1 * W, mask, acc);
            planeFma<2, R>(words, planes, 2 * W, mask, acc);
            planeFma<3, R>(words, planes, 3 * W, mask, acc);
            planeFma<4, R>(words, planes, 4 * W, mask, acc);
            planeFma<5, R>(words, planes, 5 * W, mask, acc);
            planeFma<6, R>(words, planes, 6 * W, mask, acc);
            planeFma<7, R>(words, planes, 7 * W, mask, acc);
            // Per lane: S = 16 s and B = s (16 + z) of the lane's group.
            __m512 s, z;
            groups.load(sr, zr, c, s, z);
            const __m512 s16 = _mm512_mul_ps(s, _mm512_set1_ps(16.0f));
            const __m512 b = _mm512_fmadd_ps(s, z, s16);
            for (int r = 0; r < R; ++r) {
                total[r] = _mm512_fmadd_ps(acc[r], s16, total[r]);
                total[r] = _mm512_fnmadd_ps(b, _mm512_maskz_loadu_ps(mask, wordSums[r] + c), total[r]);
            }
        }
        for (int r = 0; r < R; ++r)
            y[static_cast<std::size_t>(m0 + r) * ldy + n] = _mm512_reduce_add_ps(total[r]);
    }
}

// ---- GEMM packing ----------------------------------------------------------------

// Rows m0..m0+R-1 of the block of words j0..j0+nw-1 (channels 8*j0 .. 8*(j0+nw)-1).
template <int R>
void gemmPackingBlock(const W4Matrix& w, const float* x, int ldx, const Prepared& p, int m0, float* y, int ldy,
                      int j0, int nw) {
    const int K = w.K, N = w.N, g = w.group, G = K / g, NW = N / 8;
    alignas(64) float total[R][8][16];
    alignas(64) float scaleBuf[128];
    // Plane i, lane l is channel 8l + AWQ_ORDER[i] of the block.
    __m512i gatherIndex[8];
    for (int i = 0; i < 8; ++i)
        gatherIndex[i] = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                                                                               4, 3, 2, 1, 0),
                                                              _mm512_set1_epi32(8)),
                                          _mm512_set1_epi32(AWQ_ORDER[i]));
    const __m512i nibble = _mm512_set1_epi32(0xF);
    {
        const __mmask16 mask = static_cast<__mmask16>((1u << nw) - 1u);
        for (int r = 0; r < R; ++r)
            for (int i = 0; i < 8; ++i)
                _mm512_store_ps(total[r][i], _mm512_setzero_ps());
        for (int gi = 0; gi < G; ++gi) {
            __m512 acc[R][8];
            for (int r = 0; r < R; ++r)
                for (int i = 0; i < 8; ++i)
                    acc[r][i] = _mm512_setzero_ps();
            const int32_t* q = w.qweight + static_cast<std::size_t>(gi) * g * NW + j0;
            const float* xk[R];
            for (int r = 0; r < R; ++r)
                xk[r] = x + static_cast<std::size_t>(m0 + r) * ldx + gi * g;
            for (int k = 0; k < g; ++k, q += NW) {
                // Rows are N/2 bytes apart: prefetch the block's word 16 rows down.
                _mm_prefetch(reinterpret_cast<const char *>(q + 16 * static_cast<std::size_t>(NW)), _MM_HINT_T1);
                const __m512i words = _mm512_maskz_loadu_epi32(mask, q);
                __m512 xb[R];
                for (int r = 0; r < R; ++r)
                    xb[r] = _mm512_set1_ps(xk[r][k]);
#define AWQ_PLANE(I)                                                                                                   \
    {                                                                                                                  \
        const __m512 f = plane<I>(words);                                                                              \
        for (int r = 0; r < R; ++r)                                                                                    \
            acc[r][I] = _mm512_fmadd_ps(f, xb[r], acc[r][I]);                                                          \
    }
                AWQ_PLANE(0) AWQ_PLANE(1) AWQ_PLANE(2) AWQ_PLANE(3) AWQ_PLANE(4) AWQ_PLANE(5) AWQ_PLANE(6) AWQ_PLANE(7)
#undef AWQ_PLANE
            }
            // Scales of the block's channels in natural order, then gathered per plane;
            // zeros are packed like the weights, so their planes come out directly.
            const uint16_t* sr = w.scales + static_cast<std::size_t>(gi) * N + 8 * j0;
            for (int v = 0; v < 8; ++v) {
                const __mmask16 m16 = static_cast<__mmask16>(v * 2 < nw ? (v * 2 + 1 < nw ? 0xFFFF : 0x00FF) : 0);
                _mm512_store_ps(scaleBuf + 16 * v,
                                _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m16, sr + 16 * v)));
            }
            const __m512i zwords =
                _mm512_maskz_loadu_epi32(mask, w.qzeros + static_cast<std::size_t>(gi) * NW + j0);
            for (int i = 0; i < 8; ++i) {
                const __m512 s = _mm512_i32gather_ps(gatherIndex[i], scaleBuf, 4);
                const __m512 z = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(zwords, 4 * i), nibble));
                const __m512 s16 = _mm512_mul_ps(s, _mm512_set1_ps(16.0f));
                const __m512 b = _mm512_fmadd_ps(s, z, s16);
                for (int r = 0; r < R; ++r) {
                    __m512 t = _mm512_load_ps(total[r][i]);
                    t = _mm512_fmadd_ps(acc[r][i], s16, t);
                    t = _mm512_fnmadd_ps(b, _mm512_set1_ps(p.groupSumsOf(m0 + r)[gi]), t);
                    _mm512_store_ps(total[r][i], t);
                }
            }
        }
        for (int r = 0; r < R; ++r) {
            float* yr = y + static_cast<std::size_t>(m0 + r) * ldy;
            for (int i = 0; i < 8; ++i)
                for (int l = 0; l < nw; ++l)
                    yr[8 * (j0 + l) + AWQ_ORDER[i]] = total[r][i][l];
        }
    }
}

}  // namespace

bool gemv_avx512(const W4Matrix& w, const float* x, int ldx, const Prepared& p, int M, float* y, int ldy, int n0,
                 int n1) {
    if (w.packing == W4Packing::Gemv) {
        if (!(w.group % 128 == 0 || w.group == 32 || w.group == 64))
            return false;
        forRowBlocks<8>(M, n0, n1, [&](auto rows, int m, int c0, int c1) {
            gemvPackingRows<decltype(rows)::value>(w, p, m, y, ldy, c0, c1);
        });
        return true;
    }
    // Row blocks inside each channel block: the block's words (K x 64 bytes) stay in L2
    // while every row block reads them.
    for (int j0 = n0 / 8; j0 < (n1 + 7) / 8; j0 += 16) {
        const int nw = std::min(16, (n1 + 7) / 8 - j0);
        int m = 0;
        for (; M - m >= 3; m += 3)
            gemmPackingBlock<3>(w, x, ldx, p, m, y, ldy, j0, nw);
        if (M - m == 2)
            gemmPackingBlock<2>(w, x, ldx, p, m, y, ldy, j0, nw);
        else if (M - m == 1)
            gemmPackingBlock<1>(w, x, ldx, p, m, y, ldy, j0, nw);
    }
    return true;
}

// Panel dequantization, 16 outputs per step: two packed words spread over the 16 lanes
// (lanes 0-7 the first word, 8-15 the second), a per-lane shift picks each lane's nibble,
// then (q - z) s = q s - z s with one FMA. ~5 instructions per 16 weights; the plain loops of
// w4_dequant_rows.inc ran at ~1 weight per cycle, which made the panel path cost more than
// its matrix product below ~64 rows.
void dequantize_rows_avx512(const W4Matrix& w, int n0, int n1, float* panel, int ldp) {
    if (w.packing != W4Packing::Gemv || w.group % 16 != 0) {
        dequantizeRowsGeneric(w, n0, n1, panel, ldp);
        return;
    }
    const int K = w.K, g = w.group, G = K / g;
    const GemvPackedRows rows(w);
    const __m512i wordOfLane = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i shiftOfLane = _mm512_set_epi32(28, 24, 20, 16, 12, 8, 4, 0, 28, 24, 20, 16, 12, 8, 4, 0);
    const __m512i nibble = _mm512_set1_epi32(0xF);
    for (int n = n0; n < n1; ++n) {
        const GemvPackedRow packed = rows.row(n);
        const int32_t* q = packed.codes;
        const uint32_t* zr = packed.zeros;
        const uint16_t* sr = packed.scales;
        float* out = panel + static_cast<std::size_t>(n - n0) * ldp;
        for (int gi = 0; gi < G; ++gi) {
            const float sf = _cvtsh_ss(sr[gi]);
            const __m512 s = _mm512_set1_ps(sf);
            const __m512 zs = _mm512_set1_ps(static_cast<float>((zr[gi >> 3] >> (4 * (gi & 7))) & 0xFu) * sf);
            for (int c = gi * g / 8; c < (gi + 1) * g / 8; c += 2) {
                const __m512i words = _mm512_permutexvar_epi32(
                    wordOfLane, _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + c))));
                const __m512 codes =
                    _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srlv_epi32(words, shiftOfLane), nibble));
                _mm512_storeu_ps(out + 8 * c, _mm512_fmsub_ps(codes, s, zs));
            }
        }
    }
}

void dequantize_cols_avx512(const W4Matrix& w, int n0, int n1, float* panelT, int ldp) {
    const int width = n1 - n0;
    if (width % 16 != 0) {
        dequantizeColsGeneric(w, n0, n1, panelT, ldp);
        return;
    }
    const int K = w.K, N = w.N, g = w.group, G = K / g, NW = N / 8;
    const __m512i wordOfLane = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    // Channel 8j + t sits in nibble AWQ_REVERSE_ORDER[t].
    const __m512i shiftOfLane = _mm512_set_epi32(28, 12, 24, 8, 20, 4, 16, 0, 28, 12, 24, 8, 20, 4, 16, 0);
    const __m512i nibble = _mm512_set1_epi32(0xF);
    thread_local std::vector<float> s, zs;
    s.resize(static_cast<std::size_t>(width));
    zs.resize(static_cast<std::size_t>(width));
    for (int gi = 0; gi < G; ++gi) {
        const int32_t* zrow = w.qzeros + static_cast<std::size_t>(gi) * NW + n0 / 8;
        for (int c = 0; c < width; c += 16) {
            const __m512 sv = _mm512_cvtph_ps(
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.scales + static_cast<std::size_t>(gi) * N + n0 + c)));
            const __m512i zw = _mm512_permutexvar_epi32(
                wordOfLane, _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(zrow + c / 8))));
            const __m512 z = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srlv_epi32(zw, shiftOfLane), nibble));
            _mm512_storeu_ps(s.data() + c, sv);
            _mm512_storeu_ps(zs.data() + c, _mm512_mul_ps(z, sv));
        }
        for (int k = gi * g; k < (gi + 1) * g; ++k) {
            const int32_t* row = w.qweight + static_cast<std::size_t>(k) * NW + n0 / 8;
            float* out = panelT + static_cast<std::size_t>(k) * ldp;
            for (int c = 0; c < width; c += 16) {
                const __m512i words = _mm512_permutexvar_epi32(
                    wordOfLane, _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + c / 8))));
                const __m512 codes =
                    _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srlv_epi32(words, shiftOfLane), nibble));
                _mm512_storeu_ps(out + c, _mm512_fmsub_ps(codes, _mm512_loadu_ps(s.data() + c),
                                                          _mm512_loadu_ps(zs.data() + c)));
            }
        }
    }
}

}  // namespace awq::kernels::detail
