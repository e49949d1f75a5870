// The GEMV packing's decode kernel with AVX-512 VNNI byte dot products.
//
// Note [fixed-point activations]: measured on the 2-vCPU build machine, the float kernel
// (w4_avx512.cpp: shift, ternlog, FMA per 16 weights) is bound by instruction throughput,
// not memory: both vCPUs share one core's vector units, and it reads weights at ~9 GB/s
// of the 22 GB/s the machine streams. Here w4_prepare turns each block of 128 inputs into
// 16-bit fixed point, v = round(x / s), s = max|x| / 32639, split exactly into signed bytes
// v = 256 h + l. A 64-byte vector of packed weights holds 128 codes: its low nibbles are
// the even inputs of each word, its high nibbles the odd ones, each already a u8 in its
// byte, so four vpdpbusd (codes x {h, l} x {even, odd}) give Σ q·h and Σ q·l for 128
// weights: about a third of the float kernel's instructions. Per element the activation
// is exact to s/2 = max|x| / 65278 of its block, finer than an fp16 activation (2^-11
// relative) for all but the block's small values, whose products are small too.
// Then per lane: y += s_w s_x (256 Σqh + Σql) - s_w z Σ v s_x. Group sizes 32, 64 and
// multiples of 256 multiply this copy (gemvVnniRows); g = 128, AutoAWQ's default, multiplies
// the int8 copy instead (Note [int8 activations]).
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "awq/kernels/awq_format.h"
#include "w4_avx512_lanes.h"
#include "w4_internal.h"

namespace awq::kernels::detail {
namespace {

// Weight stream prefetch: 32 KiB ahead into L2. Measured with `awq bench --kernels` (weights
// from memory): 4 KiB into L1 15-16 GB/s, none 17-20 GB/s, 16-64 KiB into L2 20-22 GB/s.
constexpr int kPrefetchBytes = 32768;

// The 128 codes of a 64-byte chunk as two vectors of u8: the low nibbles (even inputs of
// each word) and the high nibbles (odd inputs).
struct ChunkCodes {
    __m512i even, odd;
    explicit ChunkCodes(const int32_t* words) {
        const __m512i w = _mm512_loadu_si512(words);
        const __m512i lowNibbles = _mm512_set1_epi8(0x0F);
        even = _mm512_and_si512(w, lowNibbles);
        odd = _mm512_and_si512(_mm512_srli_epi32(w, 4), lowNibbles);
    }
};

// Σ q v per lane for a chunk and the block's fixed-point bytes [even high | even low | odd
// high | odd low] (Note [fixed-point activations]), in one chain: the high-byte sums,
// shifted by 8, are the accumulator of the low-byte products (|Σ q v| < 2^22 per lane).
inline __m512i fixedPointDot(const ChunkCodes& q, const int8_t* xb) {
    __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q.even, _mm512_loadu_si512(xb));
    dot = _mm512_slli_epi32(_mm512_dpbusd_epi32(dot, q.odd, _mm512_loadu_si512(xb + 128)), 8);
    return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(dot, q.even, _mm512_loadu_si512(xb + 64)), q.odd,
                               _mm512_loadu_si512(xb + 192));
}

// Σ q v per lane for a chunk and its int8 activation bytes [even | odd].
inline __m512i int8Dot(const ChunkCodes& q, const int8_t* xb) {
    const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q.even, _mm512_loadu_si512(xb));
    return _mm512_dpbusd_epi32(dot, q.odd, _mm512_loadu_si512(xb + 64));
}

template <int R>
void gemvVnniRows(const W4Matrix& w, const Prepared& p, int m0, float* y, int ldy, int n0, int n1) {
    const int K = w.K, g = w.group, W = K / 8;
    const GemvPackedRows rows(w);
    const ChunkGroups groups(g);
    const int8_t* bytes[R];
    const float* blockScales[R];
    const float* wordSums[R];
    for (int r = 0; r < R; ++r) {
        bytes[r] = p.fixedBytesOf(m0 + r);
        blockScales[r] = p.blockScalesOf(m0 + r);
        wordSums[r] = p.fixedWordSumsOf(m0 + r);
    }
    for (int n = n0; n < n1; ++n) {
        const GemvPackedRow packed = rows.row(n);
        const int32_t* q = packed.codes;
        const uint32_t* zr = packed.zeros;
        const uint16_t* sr = packed.scales;
        __m512 total[R];
        for (int r = 0; r < R; ++r)
            total[r] = _mm512_setzero_ps();
        for (int c = 0, b = 0; c < W; c += 16, ++b) {
            _mm_prefetch(reinterpret_cast<const char*>(q + c) + kPrefetchBytes, _MM_HINT_T1);
            const ChunkCodes codes(q + c);
            // Per lane: s (weight scale) and s z of the lane's group.
            __m512 s, z;
            groups.load(sr, zr, c, s, z);
            const __m512 sz = _mm512_mul_ps(s, z);
            for (int r = 0; r < R; ++r) {
                const __m512 dot = _mm512_cvtepi32_ps(fixedPointDot(codes, bytes[r] + 256 * b));
                total[r] = _mm512_fmadd_ps(dot, _mm512_mul_ps(s, _mm512_set1_ps(blockScales[r][b])), total[r]);
                total[r] = _mm512_fnmadd_ps(sz, _mm512_loadu_ps(wordSums[r] + c), total[r]);
            }
        }
        for (int r = 0; r < R; ++r)
            y[static_cast<std::size_t>(m0 + r) * ldy + n] = _mm512_reduce_add_ps(total[r]);
    }
}

// Per output row with g = 128: S[g] = s_w[g] s_x[g] of its groups into a small buffer, and the
// whole zero-point term Σ s_w z Σv, 16 groups at a time in vectors. The chunk loops are then
// only the unpack, the byte dot products, one convert and one FMA with a broadcast S.
class Group128RowTerms {
public:
    // One row of prepared activations (the int8 copy's word sums Σ v s and block scales);
    // scratch: scratchFloats(K) floats owned by the caller.
    Group128RowTerms(const float* wordSums, const float* blockScales, int K, float* scratch)
        : m_G(K / 128), m_paddedG((m_G + 15) / 16 * 16), m_groupSum(scratch), m_xScale(scratch + m_paddedG) {
        std::fill(scratch, scratch + scratchFloats(K), 0.0f);
        for (int c = 0; c < K / 8; ++c)
            m_groupSum[c / 16] += wordSums[c];
        std::copy(blockScales, blockScales + m_G, m_xScale);
    }
    static std::size_t scratchFloats(int K) { return 2 * static_cast<std::size_t>((K / 128 + 15) / 16 * 16); }
    int paddedGroups() const { return m_paddedG; }

    // rowScale[g] = s_w[g] s_x[g]; returns where the row's accumulator starts: -s_w z Σv of
    // the groups, summed per lane (lane l holds groups l, l + 16, ...), so that the one
    // reduction of the accumulator at the end takes the zero-point term off as well.
    __m512 compute(const GemvPackedRow& packed, float* rowScale) const {
        const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        const __m512i laneWord = _mm512_srli_epi32(lanes, 3);
        const __m512i laneShift = _mm512_slli_epi32(_mm512_and_si512(lanes, _mm512_set1_epi32(7)), 2);
        __m512 zeroTerm = _mm512_setzero_ps();
        for (int g0 = 0; g0 < m_G; g0 += 16) {
            const int groups = std::min(16, m_G - g0);
            const __m512 sw = _mm512_cvtph_ps(
                _mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << groups) - 1u), packed.scales + g0));
            const __m512i zw =
                _mm512_maskz_loadu_epi32(static_cast<__mmask16>(groups > 8 ? 0x3 : 0x1), packed.zeros + g0 / 8);
            const __m512 z = _mm512_cvtepi32_ps(_mm512_and_si512(
                _mm512_srlv_epi32(_mm512_permutexvar_epi32(laneWord, zw), laneShift), _mm512_set1_epi32(0xF)));
            zeroTerm = _mm512_fnmadd_ps(_mm512_mul_ps(sw, z), _mm512_loadu_ps(m_groupSum + g0), zeroTerm);
            _mm512_storeu_ps(rowScale + g0, _mm512_mul_ps(sw, _mm512_loadu_ps(m_xScale + g0)));
        }
        return zeroTerm;
    }

private:
    int m_G, m_paddedG;
    float* m_groupSum;  // [paddedG] Σ v s of each group's int8 inputs
    float* m_xScale;    // [paddedG] the activation scale of each group
};

// Note [int8 activations]: with g = 128 the kernels multiply w4_prepare's int8 copy of the
// activations (s = max|x| / 127 per 128 inputs, as llama.cpp's Q8 activations and the int8
// prefill): two vpdpbusd per chunk and row instead of the fixed point's four, and half the
// activation loads. Each product is within Σ|w| max|x| / 254 of its blocks. Batched decode
// is compute-bound (8 rows on the fixed point ran at ~280-340 GFLOP/s, about one vpdpbusd per
// cycle of the one physical core both vCPUs share); one row was bound by its loads and its
// memory access pattern (Note [one weight stream per thread]).
//
// Note [one weight stream per thread]: one activation row walks its output channels one at a
// time, each channel's codes (contiguous in the GEMV packing) front to back, so each thread
// reads one sequential stream. Issue 26 measured on the 2-vCPU EPYC build machine (weights
// from memory, both threads, TinyLlama shapes): a plain read of 1 KiB rows, 4 rows interleaved
// 64 bytes at a time as the earlier channel-blocked kernel read them, got 21-33 GB/s where one
// stream got 34-54 GB/s in the same minutes: the hardware prefetcher follows one stream per
// thread, not four. Channel blocking had paid for itself when the fixed point's four
// activation loads per chunk bound the loop (weights in L2: 2 channels 25, 4 channels 31 GB/s);
// with the int8 copy a chunk needs two activation loads, from L1. In the decoder (median
// over 128 steps, the same minutes, docs/benchmarks.md) gate/up went from 345-390 to 298-325 us
// per call and the down projection from 170-200 to 141-168 us.
void gemvVnniGroup128OneRow(const W4Matrix& w, const Prepared& p, float* y, int n0, int n1) {
    const GemvPackedRows rows(w);
    thread_local std::vector<float> termScratch, rowScale;  // grown once, then reused
    termScratch.resize(Group128RowTerms::scratchFloats(w.K));
    const Group128RowTerms terms(p.int8WordSumsOf(0), p.int8ScalesOf(0), w.K, termScratch.data());
    rowScale.resize(static_cast<std::size_t>(terms.paddedGroups()));
    const int8_t* bytes = p.int8BytesOf(0);
    const int W = w.K / 8;
    for (int n = n0; n < n1; ++n) {
        const GemvPackedRow packed = rows.row(n);
        __m512 total = terms.compute(packed, rowScale.data());
        const int32_t* q = packed.codes;
        for (int c = 0, b = 0; c < W; c += 16, ++b) {
            _mm_prefetch(reinterpret_cast<const char*>(q + c) + kPrefetchBytes, _MM_HINT_T1);
            const __m512i dot = int8Dot(ChunkCodes(q + c), bytes + 128 * b);
            total = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(rowScale[b]), total);
        }
        y[n] = _mm512_reduce_add_ps(total);
    }
}

// R activation rows (batched decode, short prompts) with g = 128: the one-row arithmetic
// per row, each chunk's weights unpacked once for the R rows. Against gemvVnniRows, whose
// per-chunk scale and zero-point work per row made 8 rows cost 4.4x one row, the scales
// and zero-point terms are computed once per output channel and row.
//
// Note [K blocking]: the channels are taken 16 at a time and their rows walked in passes of
// kWordsPerPass words (1024 inputs), the R rows' accumulators kept per channel between
// passes. A pass touches 16 x 512 bytes of weights and R x 1 KiB of activations, all in L1.
// Walking each channel's whole row instead, the down projection (K = 5632; then on the
// fixed point, 11 KiB per row, 4 rows 45 KiB) read its activations from L2 and ran at half
// the rate of gate/up (K = 2048) at 8 rows (docs/benchmarks.md, issue 26).
constexpr int kChannelsPerPass = 16;
constexpr int kWordsPerPass = 128;

template <int R>
void gemvVnniGroup128Rows(const GemvPackedRows& rows, const Group128RowTerms* terms, const Prepared& p, int m0,
                          int W, float* rowScales, float* y, int ldy, int n0, int n1) {
    const int paddedG = terms[0].paddedGroups();
    constexpr int kBlockBytes = 128;
    const int8_t* bytes[R];
    for (int r = 0; r < R; ++r)
        bytes[r] = p.int8BytesOf(m0 + r);
    alignas(64) __m512 partial[kChannelsPerPass][R];
    const int32_t* codes[kChannelsPerPass];
    // One pass when the R rows' activations fit in half of L1 (K up to 4096 at 4 rows).
    const int wordsPerPass = R * W * (kBlockBytes / 16) <= 16384 ? W : kWordsPerPass;
    for (int s0 = n0; s0 < n1; s0 += kChannelsPerPass) {
        const int C = std::min(kChannelsPerPass, n1 - s0);
        for (int ch = 0; ch < C; ++ch) {
            const GemvPackedRow packed = rows.row(s0 + ch);
            codes[ch] = packed.codes;
            for (int r = 0; r < R; ++r) {
                partial[ch][r] =
                    terms[m0 + r].compute(packed, rowScales + (static_cast<std::size_t>(ch) * R + r) * paddedG);
            }
        }
        for (int k0 = 0; k0 < W; k0 += wordsPerPass) {
            const int k1 = std::min(W, k0 + wordsPerPass);
            for (int ch = 0; ch < C; ++ch) {
                const float* scale = rowScales + static_cast<std::size_t>(ch) * R * paddedG;
                __m512 total[R];
                for (int r = 0; r < R; ++r)
                    total[r] = partial[ch][r];
                for (int c = k0, b = k0 / 16; c < k1; c += 16, ++b) {
                    _mm_prefetch(reinterpret_cast<const char*>(codes[ch] + c) + kPrefetchBytes, _MM_HINT_T1);
                    const ChunkCodes q(codes[ch] + c);
                    for (int r = 0; r < R; ++r) {
                        const __m512i dotq = int8Dot(q, bytes[r] + kBlockBytes * b);
                        total[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dotq),
                                                   _mm512_set1_ps(scale[static_cast<std::size_t>(r) * paddedG + b]),
                                                   total[r]);
                    }
                }
                for (int r = 0; r < R; ++r)
                    partial[ch][r] = total[r];
            }
        }
        for (int ch = 0; ch < C; ++ch)
            for (int r = 0; r < R; ++r)
                y[static_cast<std::size_t>(m0 + r) * ldy + s0 + ch] = _mm512_reduce_add_ps(partial[ch][r]);
    }
}

void gemvVnniGroup128(const W4Matrix& w, const Prepared& p, int M, float* y, int ldy, int n0, int n1) {
    constexpr int kMaxRows = 4;
    const GemvPackedRows rows(w);
    const std::size_t perRow = Group128RowTerms::scratchFloats(w.K);
    thread_local std::vector<float> termScratch, rowScales;  // grown once, then reused
    thread_local std::vector<Group128RowTerms> terms;
    termScratch.resize(perRow * static_cast<std::size_t>(M));
    terms.clear();
    for (int m = 0; m < M; ++m)
        terms.emplace_back(p.int8WordSumsOf(m), p.int8ScalesOf(m), w.K,
                           termScratch.data() + perRow * static_cast<std::size_t>(m));
    rowScales.resize(static_cast<std::size_t>(kChannelsPerPass) * kMaxRows * terms[0].paddedGroups());
    forRowBlocks<kMaxRows>(M, n0, n1, [&](auto block, int m, int c0, int c1) {
        constexpr int R = decltype(block)::value;
        gemvVnniGroup128Rows<R>(rows, terms.data(), p, m, w.K / 8, rowScales.data(), y, ldy, c0, c1);
    });
}

}  // namespace

bool gemv_avx512_vnni(const W4Matrix& w, const Prepared& p, int M, float* y, int ldy, int n0, int n1) {
    if (w.packing != W4Packing::Gemv || p.B == 0 || !(w.group % 128 == 0 || w.group == 32 || w.group == 64))
        return false;
    if (w.group == 128) {  // AutoAWQ's default
        if (M == 1)
            gemvVnniGroup128OneRow(w, p, y, n0, n1);
        else
            gemvVnniGroup128(w, p, M, y, ldy, n0, n1);
        return true;
    }
    forRowBlocks<4>(M, n0, n1, [&](auto rows, int m, int c0, int c1) {
        gemvVnniRows<decltype(rows)::value>(w, p, m, y, ldy, c0, c1);
    });
    return true;
}

}  // namespace awq::kernels::detail
