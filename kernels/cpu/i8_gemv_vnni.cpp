// int8 weights x 16-bit fixed-point activations on AVX-512 VNNI (Note [int8 weights on VNNI]
// in awq/kernels/i8_linear.h). Per 128-input block and output channel: two 64-byte vectors of
// codes (q + 128, unsigned), four vpdpbusd against the block's activation bytes, one
// convert and one FMA with s_w s_x; the +128 is taken back once per channel through the
// blocks' Σ v s_x.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "awq/kernels/i8_linear.h"
#include "w4_internal.h"

namespace awq::kernels::detail {
namespace {

// As the int4 kernel (w4_avx512_vnni.cpp): weights prefetched 32 KiB ahead into L2.
constexpr int kPrefetchBytes = 32768;

// Σ (q + 128) v over one block for the 16 lanes: the high activation bytes' products
// shifted by 8 are the accumulator of the low bytes' (|result| < 2^27 per lane).
inline __m512i blockDot(__m512i even, __m512i odd, __m512i evenHigh, __m512i evenLow, __m512i oddHigh,
                        __m512i oddLow) {
    __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), even, evenHigh);
    dot = _mm512_slli_epi32(_mm512_dpbusd_epi32(dot, odd, oddHigh), 8);
    return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(dot, even, evenLow), odd, oddLow);
}

// Per activation row: the block scales s_x and Σ v s_x of each block (from the fixed word sums).
struct RowTerms {
    const int8_t* bytes;
    const float* xScale;
    const float* blockSum;
};

// 128 · Σ_b s_w[b] Σv s_x[b]: what the +128 of the stored codes added to the channel.
inline float offsetTerm(const float* sw, const float* blockSum, int B) {
    float total = 0.0f;
    for (int b = 0; b < B; ++b)
        total += sw[b] * blockSum[b];
    return 128.0f * total;
}

// One activation row, one output channel at a time: each thread reads its channels' codes as
// one sequential stream, which the hardware prefetcher follows (Note [one weight stream per
// thread] in w4_avx512_vnni.cpp). Blocking 4 channels to load the activations once for them
// read 4 interleaved streams: issue 26 measured TinyLlama's decode at 60.3-62.8 tok/s with
// it and 66.1-66.4 without (int4 layers one stream each, the same minutes).
void oneRow(const I8Matrix& w, const RowTerms& row, float* y, int n) {
    const int K = w.K, B = K / kI8Block;
    const uint8_t* q = w.codes + static_cast<std::size_t>(n) * K;
    const float* sw = w.scales + static_cast<std::size_t>(n) * B;
    __m512 total = _mm512_setzero_ps();
    for (int b = 0; b < B; ++b) {
        const int8_t* xb = row.bytes + 256 * b;
        const uint8_t* wb = q + kI8Block * b;
        _mm_prefetch(reinterpret_cast<const char*>(wb) + kPrefetchBytes, _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(wb) + kPrefetchBytes + 64, _MM_HINT_T1);
        const __m512i dot = blockDot(_mm512_loadu_si512(wb), _mm512_loadu_si512(wb + 64), _mm512_loadu_si512(xb),
                                     _mm512_loadu_si512(xb + 64), _mm512_loadu_si512(xb + 128),
                                     _mm512_loadu_si512(xb + 192));
        total = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(sw[b] * row.xScale[b]), total);
    }
    y[n] = _mm512_reduce_add_ps(total) - offsetTerm(sw, row.blockSum, B);
}

// R activation rows, one output channel at a time: each block's codes are loaded once for
// the R rows (batched decode, the rows of a scored prompt).
template <int R>
void rowsOneChannel(const I8Matrix& w, const RowTerms* rows, int m0, float* y, int ldy, int c0, int c1) {
    const int K = w.K, B = K / kI8Block;
    for (int n = c0; n < c1; ++n) {
        const uint8_t* q = w.codes + static_cast<std::size_t>(n) * K;
        const float* sw = w.scales + static_cast<std::size_t>(n) * B;
        __m512 total[R];
        for (int r = 0; r < R; ++r)
            total[r] = _mm512_setzero_ps();
        for (int b = 0; b < B; ++b) {
            const uint8_t* wb = q + kI8Block * b;
            _mm_prefetch(reinterpret_cast<const char*>(wb) + kPrefetchBytes, _MM_HINT_T1);
            const __m512i even = _mm512_loadu_si512(wb), odd = _mm512_loadu_si512(wb + 64);
            for (int r = 0; r < R; ++r) {
                const int8_t* xb = rows[m0 + r].bytes + 256 * b;
                const __m512i dot = blockDot(even, odd, _mm512_loadu_si512(xb), _mm512_loadu_si512(xb + 64),
                                             _mm512_loadu_si512(xb + 128), _mm512_loadu_si512(xb + 192));
                total[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(sw[b] * rows[m0 + r].xScale[b]),
                                           total[r]);
            }
        }
        for (int r = 0; r < R; ++r)
            y[static_cast<std::size_t>(m0 + r) * ldy + n] =
                _mm512_reduce_add_ps(total[r]) - offsetTerm(sw, rows[m0 + r].blockSum, B);
    }
}

}  // namespace

void i8_gemv_vnni(const I8Matrix& w, const float* prepared, int M, float* y, int ldy, int n0, int n1) {
    const Prepared p = preparedView(prepared, M, w.K, kI8Block);
    const int B = p.B;
    thread_local std::vector<float> blockSums;  // [M][B], grown once, then reused
    thread_local std::vector<RowTerms> rows;
    blockSums.resize(static_cast<std::size_t>(M) * B);
    rows.clear();
    for (int m = 0; m < M; ++m) {
        float* sums = blockSums.data() + static_cast<std::size_t>(m) * B;
        const float* wordSums = p.fixedWordSumsOf(m);
        for (int b = 0; b < B; ++b) {
            float s = 0.0f;
            for (int c = 0; c < 16; ++c)
                s += wordSums[16 * b + c];
            sums[b] = s;
        }
        rows.push_back(RowTerms{p.fixedBytesOf(m), p.blockScalesOf(m), sums});
    }
    if (M == 1) {
        for (int n = n0; n < n1; ++n)
            oneRow(w, rows[0], y, n);
        return;
    }
    forRowBlocks<4>(M, n0, n1, [&](auto block, int m, int c0, int c1) {
        rowsOneChannel<decltype(block)::value>(w, rows.data(), m, y, ldy, c0, c1);
    });
}

}  // namespace awq::kernels::detail
