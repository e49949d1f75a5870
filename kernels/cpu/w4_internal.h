#pragma once
// Shared by the W4 kernel translation units (one per instruction set): the layout of
// the w4_prepare workspace and the per-ISA entry points the dispatcher calls.
// Internal to kernels/; not installed.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <xmmintrin.h>

#include "awq/kernels/awq_format.h"

#include "awq/kernels/w4_linear.h"

namespace awq::kernels::detail {

// Views into the w4_prepare workspace of M rows.
struct Prepared {
    int W = 0;  // K / 8
    int G = 0;  // K / group
    int B = 0;  // 128-input blocks of the fixed-point copy (K / 128), 0 when K % 128 != 0
    const float* planes = nullptr;     // [M][8][W]
    const float* wordSums = nullptr;   // [M][W]
    const float* groupSums = nullptr;  // [M][G]
    // Fixed-point copy (B > 0): per block a scale, per word the sum of the rounded
    // values, and 256 bytes: the high and low bytes of x[8c + 2j] (even) and x[8c + 2j + 1]
    // (odd) laid out as [even high | even low | odd high | odd low] x 64 bytes.
    const float* blockScales = nullptr;  // [M][B]
    const float* fixedWordSums = nullptr;  // [M][W]
    const int8_t* fixedBytes = nullptr;   // [M][B][256]
    // int8 copy (B > 0 and a CPU with AVX-512 VNNI, the only one whose kernel reads it:
    // the g = 128 kernels, Note [int8 activations] in w4_avx512_vnni.cpp): per block
    // s = max|x| / 127, v = round(x / s), per word Σ v · s, and
    // 128 bytes [even | odd] x 64 in the order of the fixed-point copy's high bytes.
    const float* int8Scales = nullptr;    // [M][B]
    const float* int8WordSums = nullptr;  // [M][W]
    const int8_t* int8Bytes = nullptr;    // [M][B][128]
    const float* int8ScalesOf(int m) const { return int8Scales + static_cast<std::size_t>(m) * B; }
    const float* int8WordSumsOf(int m) const { return int8WordSums + static_cast<std::size_t>(m) * W; }
    const int8_t* int8BytesOf(int m) const { return int8Bytes + static_cast<std::size_t>(m) * B * 128; }
    const float* blockScalesOf(int m) const { return blockScales + static_cast<std::size_t>(m) * B; }
    const float* fixedWordSumsOf(int m) const { return fixedWordSums + static_cast<std::size_t>(m) * W; }
    const int8_t* fixedBytesOf(int m) const { return fixedBytes + static_cast<std::size_t>(m) * B * 256; }
    const float* planesOf(int m) const { return planes + static_cast<std::size_t>(m) * 8 * W; }
    const float* wordSumsOf(int m) const { return wordSums + static_cast<std::size_t>(m) * W; }
    const float* groupSumsOf(int m) const { return groupSums + static_cast<std::size_t>(m) * G; }
};
Prepared preparedView(const float* work, int M, int K, int group);

// The GEMV packing's per-output-row pointers ([N][K/8] codes, [N][ZW] zeros, [N][ZW*8] scales).
struct GemvPackedRow {
    const int32_t* codes;
    const uint32_t* zeros;
    const uint16_t* scales;
};
class GemvPackedRows {
public:
    explicit GemvPackedRows(const W4Matrix& w)
        : m_w(w), m_words(w.K / 8), m_zerosWidth(gemvZerosWidth(w.K, w.group)) {}
    int words() const { return m_words; }
    // Row n; also prefetches the scales and zeros of row n + 16: a few bytes per row in their
    // own arrays, whose first-touch misses were the decode loop's top stall.
    GemvPackedRow row(int n) const {
        const std::size_t zw = static_cast<std::size_t>(m_zerosWidth);
        const GemvPackedRow r{m_w.qweight + static_cast<std::size_t>(n) * m_words,
                              reinterpret_cast<const uint32_t*>(m_w.qzeros) + static_cast<std::size_t>(n) * zw,
                              m_w.scales + static_cast<std::size_t>(n) * zw * 8};
        _mm_prefetch(reinterpret_cast<const char*>(r.scales + 16 * zw * 8), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(r.zeros + 16 * zw), _MM_HINT_T0);
        return r;
    }

private:
    const W4Matrix& m_w;
    int m_words, m_zerosWidth;
};

// Runs body(std::integral_constant<int, R>{}, m0, c0, c1) over the rows of a GEMV-style call in
// blocks of MaxR rows (then one block of the remaining 1..MaxR-1), each block's row count a
// compile-time constant so that its accumulators stay in registers. With more rows than one
// block, the channel range is walked in 16-channel chunks so that the chunk's weights stay in
// L1 while every row block reads them. The body is a generic lambda of the calling unit.
template <int R, typename Body>
void callRowBlock(int rows, int m0, int c0, int c1, Body& body) {
    if constexpr (R > 0) {
        if (rows == R)
            body(std::integral_constant<int, R>{}, m0, c0, c1);
        else
            callRowBlock<R - 1>(rows, m0, c0, c1, body);
    }
}

template <int MaxR, typename Body>
void forRowBlocks(int M, int n0, int n1, Body&& body) {
    const int chunk = M > MaxR ? 16 : n1 - n0;
    for (int c0 = n0; c0 < n1; c0 += chunk) {
        const int c1 = c0 + chunk < n1 ? c0 + chunk : n1;
        int m = 0;
        for (; M - m >= MaxR; m += MaxR)
            body(std::integral_constant<int, MaxR>{}, m, c0, c1);
        callRowBlock<MaxR - 1>(M - m, m, c0, c1, body);
    }
}

// Each returns false when it does not handle this geometry (the dispatcher then falls
// back to the scalar path), true when y[m][n0..n1) has been written.
bool gemv_avx512(const W4Matrix& w, const float* x, int ldx, const Prepared& p, int M, float* y, int ldy, int n0,
                 int n1);
bool gemv_avx512_vnni(const W4Matrix& w, const Prepared& p, int M, float* y, int ldy, int n0, int n1);
bool gemv_avx2(const W4Matrix& w, const float* x, int ldx, const Prepared& p, int M, float* y, int ldy, int n0,
               int n1);
void gemv_scalar(const W4Matrix& w, const float* x, int ldx, int M, float* y, int ldy, int n0, int n1);

// w4_prepare's planes, word sums and fixed-point copy of row m (floatParts; p.B > 0: K % 128
// == 0), bit for bit the scalar path's output, and its int8 copy (int8Copy). The group sums
// are the caller's.
void prepare_row_avx512(const float* xr, const Prepared& p, int m, bool floatParts, bool int8Copy);

// Quantized activation rows of the int8 path (awq/kernels/w4_int8_gemm.h): per row, K int8
// values in octets [x0 x2 x4 x6 | x1 x3 x5 x7] (the GEMV packing's low and high nibbles of
// a word's four bytes), and per block of `block` inputs a scale and the values' sum.
struct Int8Rows {
    int K = 0, block = 0, blocks = 0;
    const int8_t* values = nullptr;  // [M][K]
    const float* scales = nullptr;   // [M][blocks]
    const int32_t* sums = nullptr;   // [M][blocks]
};
Int8Rows int8RowsView(const void* work, int M, int K, int group);
void int8_quantize_rows_vnni(const float* x, int m0, int m1, int K, int ldx, const Int8Rows& rows);
void int8_gemm_vnni(const W4Matrix& w, const Int8Rows& rows, int M, float* y, int ldy, int n0, int n1);

void dequantize_rows_avx512(const W4Matrix& w, int n0, int n1, float* panel, int ldp);
void dequantize_rows_avx2(const W4Matrix& w, int n0, int n1, float* panel, int ldp);
void dequantize_rows_scalar(const W4Matrix& w, int n0, int n1, float* panel, int ldp);
void dequantize_cols_avx512(const W4Matrix& w, int n0, int n1, float* panelT, int ldp);
void dequantize_cols_avx2(const W4Matrix& w, int n0, int n1, float* panelT, int ldp);
void dequantize_cols_scalar(const W4Matrix& w, int n0, int n1, float* panelT, int ldp);

}  // namespace awq::kernels::detail
