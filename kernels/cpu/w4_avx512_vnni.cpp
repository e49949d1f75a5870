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
// Then per lane: y += s_w s_x (256 Σqh + Σql) - s_w z Σ v s_x.
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
inline __m512i fixedPointDot(const ChunkCodes& q, __m512i evenHigh, __m512i evenLow, __m512i oddHigh, __m512i oddLow) {
    __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q.even, evenHigh);
    dot = _mm512_slli_epi32(_mm512_dpbusd_epi32(dot, q.odd, oddHigh), 8);
    return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(dot, q.even, evenLow), q.odd, oddLow);
}
inline __m512i fixedPointDot(const ChunkCodes& q, const int8_t* xb) {
    return fixedPointDot(q, _mm512_loadu_si512(xb), _mm512_loadu_si512(xb + 64), _mm512_loadu_si512(xb + 128),
                         _mm512_loadu_si512(xb + 192));
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

// One activation row (decode at batch 1) with g = 128, AutoAWQ's default. Per output row,
// 16 groups at a time in vectors: S[g] = s_w[g] s_x[g] into a small buffer, and the whole
// zero-point term Σ s_w z Σv. The chunk loop is then only the unpack, four byte dot
// products, one convert and one FMA with a broadcast S (about half the instructions of
// gemvVnniRows, whose per-chunk scalar scale/zero work dominated once the dot products were
// cheap).
//
// Note [channel blocking]: C output rows are walked together, so that the four activation
// vectors of a chunk are loaded once for C rows. With one row, a chunk needed six 64-byte
// loads for four vpdpbusd; the core issues one such load per cycle, which bound the loop at
// ~10 cycles per 64 weight bytes (measured with the weights in L2: 21 GB/s on one thread;
// with 4 channels 29-31 GB/s, and 24-29 GB/s from memory on two threads, where a plain read
// of the same bytes in the same calls gets 27-31 GB/s).
class Group128RowTerms {
public:
    // One row of prepared activations (its word sums Σ v s and block scales, of the fixed-point
    // or the int8 copy); scratch: scratchFloats(K) floats owned by the caller.
    Group128RowTerms(const float* wordSums, const float* blockScales, int K, float* scratch)
        : m_G(K / 128), m_paddedG((m_G + 15) / 16 * 16), m_groupSum(scratch), m_xScale(scratch + m_paddedG) {
        std::fill(scratch, scratch + scratchFloats(K), 0.0f);
        for (int c = 0; c < K / 8; ++c)
            m_groupSum[c / 16] += wordSums[c];
        std::copy(blockScales, blockScales + m_G, m_xScale);
    }
    static std::size_t scratchFloats(int K) { return 2 * static_cast<std::size_t>((K / 128 + 15) / 16 * 16); }
    int paddedGroups() const { return m_paddedG; }

    // rowScale[g] = s_w[g] s_x[g]; returns the row's zero-point term Σ_g s_w z Σv.
    float compute(const GemvPackedRow& packed, float* rowScale) const {
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
            zeroTerm = _mm512_fmadd_ps(_mm512_mul_ps(sw, z), _mm512_loadu_ps(m_groupSum + g0), zeroTerm);
            _mm512_storeu_ps(rowScale + g0, _mm512_mul_ps(sw, _mm512_loadu_ps(m_xScale + g0)));
        }
        return _mm512_reduce_add_ps(zeroTerm);
    }

private:
    int m_G, m_paddedG;
    float* m_groupSum;  // [paddedG] Σv of each group's fixed-point inputs
    float* m_xScale;    // [paddedG] the activation scale of each group
};

template <int C>
void gemvVnniGroup128Channels(const GemvPackedRows& rows, const Group128RowTerms& terms, const int8_t* bytes,
                              int W, float* rowScales, float* y, int n) {
    const int paddedG = terms.paddedGroups();
    const int32_t* q[C];
    const float* scale[C];
    float zeroTerm[C];
    for (int ch = 0; ch < C; ++ch) {
        const GemvPackedRow packed = rows.row(n + ch);
        q[ch] = packed.codes;
        scale[ch] = rowScales + static_cast<std::size_t>(ch) * paddedG;
        zeroTerm[ch] = terms.compute(packed, rowScales + static_cast<std::size_t>(ch) * paddedG);
    }
    __m512 total[C];
    for (int ch = 0; ch < C; ++ch)
        total[ch] = _mm512_setzero_ps();
    for (int c = 0, b = 0; c < W; c += 16, ++b) {
        const int8_t* xb = bytes + 256 * b;
        const __m512i evenHigh = _mm512_loadu_si512(xb), evenLow = _mm512_loadu_si512(xb + 64);
        const __m512i oddHigh = _mm512_loadu_si512(xb + 128), oddLow = _mm512_loadu_si512(xb + 192);
        for (int ch = 0; ch < C; ++ch) {
            _mm_prefetch(reinterpret_cast<const char*>(q[ch] + c) + kPrefetchBytes, _MM_HINT_T1);
            const __m512 dot =
                _mm512_cvtepi32_ps(fixedPointDot(ChunkCodes(q[ch] + c), evenHigh, evenLow, oddHigh, oddLow));
            total[ch] = _mm512_fmadd_ps(dot, _mm512_set1_ps(scale[ch][b]), total[ch]);
        }
    }
    for (int ch = 0; ch < C; ++ch)
        y[n + ch] = _mm512_reduce_add_ps(total[ch]) - zeroTerm[ch];
}

// [n0, n1) holds a multiple of 8 channels (w4_gemv's contract: n0 and n1 are multiples of 8,
// or n1 == N, which w4_validate requires to be one), so channel blocks of 4 cover it exactly.
void gemvVnniGroup128OneRow(const W4Matrix& w, const Prepared& p, float* y, int n0, int n1) {
    constexpr int kChannels = 4;  // measured: 2 channels 25, 4 channels 31, 8 channels 30 GB/s (weights in L2)
    static_assert(8 % kChannels == 0);
    const GemvPackedRows rows(w);
    thread_local std::vector<float> termScratch, rowScales;  // grown once, then reused
    termScratch.resize(Group128RowTerms::scratchFloats(w.K));
    const Group128RowTerms terms(p.fixedWordSumsOf(0), p.blockScalesOf(0), w.K, termScratch.data());
    rowScales.resize(static_cast<std::size_t>(kChannels) * terms.paddedGroups());
    const int8_t* bytes = p.fixedBytesOf(0);
    for (int n = n0; n < n1; n += kChannels)
        gemvVnniGroup128Channels<kChannels>(rows, terms, bytes, w.K / 8, rowScales.data(), y, n);
}

// R activation rows (batched decode, short prompts) with g = 128: the one-row arithmetic
// per row, each chunk's weights unpacked once for the R rows. Against gemvVnniRows, whose
// per-chunk scale and zero-point work per row made 8 rows cost 4.4x one row, the scales
// and zero-point terms are computed once per output channel and row.
//
// Note [K blocking]: the channels are taken 16 at a time and their rows walked in passes of
// kWordsPerPass words (1024 inputs), the R rows' accumulators kept per channel between
// passes. A pass touches 16 x 512 bytes of weights and R x 2 KiB of activations, all in L1.
// Walking each channel's whole row instead, the down projection (K = 5632: 11 KiB of
// fixed-point activations per row, 4 rows 45 KiB) read its activations from L2 and ran at
// half the rate of gate/up (K = 2048) at 8 rows (docs/benchmarks.md, issue 26).
//
// Note [int8 activations for batches]: from kInt8ActivationRows rows the kernel multiplies
// the int8 copy (s = max|x| / 127 per 128 inputs, as llama.cpp's Q8 activations and the
// int8 prefill) instead of the 16-bit fixed point: two vpdpbusd per chunk and row instead of
// four and half the activation loads. Batched decode is compute-bound here (8 rows: the
// fixed-point kernel ran at ~280-340 GFLOP/s, about one vpdpbusd per cycle of the one
// physical core both vCPUs share). One row, memory-bound, keeps the finer fixed point.
constexpr int kChannelsPerPass = 16;
constexpr int kWordsPerPass = 128;

// Σ q v per lane for a chunk and its int8 activation bytes [even | odd].
inline __m512i int8Dot(const ChunkCodes& q, const int8_t* xb) {
    const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q.even, _mm512_loadu_si512(xb));
    return _mm512_dpbusd_epi32(dot, q.odd, _mm512_loadu_si512(xb + 64));
}

template <int R, bool Int8>
void gemvVnniGroup128Rows(const GemvPackedRows& rows, const Group128RowTerms* terms, const Prepared& p, int m0,
                          int W, float* rowScales, float* y, int ldy, int n0, int n1) {
    const int paddedG = terms[0].paddedGroups();
    constexpr int kBlockBytes = Int8 ? 128 : 256;
    const int8_t* bytes[R];
    for (int r = 0; r < R; ++r)
        bytes[r] = Int8 ? p.int8BytesOf(m0 + r) : p.fixedBytesOf(m0 + r);
    alignas(64) __m512 partial[kChannelsPerPass][R];
    float zeroTerm[kChannelsPerPass][R];
    const int32_t* codes[kChannelsPerPass];
    // One pass when the R rows' activations fit in half of L1 (K up to 2048 at 4 rows).
    const int wordsPerPass = R * W * (kBlockBytes / 16) <= 16384 ? W : kWordsPerPass;
    for (int s0 = n0; s0 < n1; s0 += kChannelsPerPass) {
        const int C = std::min(kChannelsPerPass, n1 - s0);
        for (int ch = 0; ch < C; ++ch) {
            const GemvPackedRow packed = rows.row(s0 + ch);
            codes[ch] = packed.codes;
            for (int r = 0; r < R; ++r) {
                zeroTerm[ch][r] = terms[m0 + r].compute(
                    packed, rowScales + (static_cast<std::size_t>(ch) * R + r) * paddedG);
                partial[ch][r] = _mm512_setzero_ps();
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
                        const __m512i dotq = Int8 ? int8Dot(q, bytes[r] + kBlockBytes * b)
                                                  : fixedPointDot(q, bytes[r] + kBlockBytes * b);
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
                y[static_cast<std::size_t>(m0 + r) * ldy + s0 + ch] =
                    _mm512_reduce_add_ps(partial[ch][r]) - zeroTerm[ch][r];
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
    const bool int8 = M >= kInt8ActivationRows;
    for (int m = 0; m < M; ++m)
        terms.emplace_back(int8 ? p.int8WordSumsOf(m) : p.fixedWordSumsOf(m),
                           int8 ? p.int8ScalesOf(m) : p.blockScalesOf(m), w.K,
                           termScratch.data() + perRow * static_cast<std::size_t>(m));
    rowScales.resize(static_cast<std::size_t>(kChannelsPerPass) * kMaxRows * terms[0].paddedGroups());
    forRowBlocks<kMaxRows>(M, n0, n1, [&](auto block, int m, int c0, int c1) {
        constexpr int R = decltype(block)::value;
        if (int8)
            gemvVnniGroup128Rows<R, true>(rows, terms.data(), p, m, w.K / 8, rowScales.data(), y, ldy, c0, c1);
        else
            gemvVnniGroup128Rows<R, false>(rows, terms.data(), p, m, w.K / 8, rowScales.data(), y, ldy, c0, c1);
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
