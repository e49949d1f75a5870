// The int8-activation prefill product on AVX-512 VNNI (awq/kernels/w4_int8_gemm.h).
//
// Note [int8 activations]: for many rows the float path dequantizes each weight to float32
// and lets BLAS run one FMA per multiply-add (16 per instruction). vpdpbusd does 64 u8 x s8
// multiply-adds per instruction, so here the activations are quantized per block of 128
// inputs (the group size when it is 32 or 64) to int8, v = round(x / s) with
// s = max|x| / 127 (symmetric, as llama.cpp's Q8_0/Q8_K), and multiplied with the 4-bit
// codes directly. Per output (row m, channel n) and block b, in group gi:
//   y += s_w[n][gi] s_x[m][b] (sum_k q v - z[n][gi] sum_k v),
// the zero-point term through the block's activation sum (computed once per row), the
// integer part exact in int32 (|sum| < 128 * 15 * 127 * 2).
//
// Layout: output channels are the vector lanes. For a tile of 32 channels, the codes are
// rearranged once per call (amortized over all rows) so that one 64-byte vector holds, for
// one octet of inputs, 16 channels x 4 codes: the low nibbles of the channel's GEMV word
// (inputs 8o, 8o+2, 8o+4, 8o+6) in "even" vectors, the high nibbles in "odd" ones. The
// activation octet is stored as [x0 x2 x4 x6 | x1 x3 x5 x7], so one 4-byte broadcast of
// each half meets the matching vector: two vpdpbusd per 16 channels, 8 inputs and row.
// The micro-kernel walks R rows x 32 channels: 4 weight vectors (from L1/L2) and 2R
// broadcasts feed 4R vpdpbusd per octet into 2R integer accumulators, converted to float
// and scaled once per block.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "awq/kernels/awq_format.h"
#include "w4_internal.h"

namespace awq::kernels::detail {
namespace {

constexpr int kTile = 32;  // channels per tile (two vectors of 16 lanes)

// 64 bytes, 64-byte aligned: one vector's worth (std::vector of __m512i drops its alignment attribute).
struct alignas(64) Vector64 {
    uint32_t lanes[16];
};
struct alignas(64) Floats64 {
    float lanes[16];
};

// One tile's codes, scales and zero points, rebuilt per call and thread.
struct Tile {
    std::vector<Vector64> codes;     // [K/8 octets][even 0-15 | even 16-31 | odd 0-15 | odd 16-31]
    std::vector<Floats64> scales;    // [G][2] fp32 weight scales, 0 past the matrix's channels
    std::vector<Vector64> negZeros;  // [G][2] -z as int32 bits
};
inline __m512i loadInts(const Vector64& v) { return _mm512_load_si512(v.lanes); }
inline __m512 loadFloats(const Floats64& v) { return _mm512_load_ps(v.lanes); }

// Codes of channels [n0, n0 + 32) (zero past N) into the tile layout.
void buildTile(const W4Matrix& w, int n0, Tile& t) {
    const int K = w.K, N = w.N, g = w.group, G = K / g, W = K / 8;
    t.codes.resize(static_cast<std::size_t>(W) * 4);
    t.scales.resize(static_cast<std::size_t>(G) * 2);
    t.negZeros.resize(static_cast<std::size_t>(G) * 2);
    uint32_t* codes = t.codes.data()->lanes;
    float* scales = t.scales.data()->lanes;
    uint32_t* negZeros = t.negZeros.data()->lanes;
    const int valid = std::min(kTile, N - n0);
    if (valid < kTile) {
        std::fill(codes, codes + static_cast<std::size_t>(W) * 64, 0u);
        std::fill(scales, scales + static_cast<std::size_t>(G) * kTile, 0.0f);
        std::fill(negZeros, negZeros + static_cast<std::size_t>(G) * kTile, 0u);
    }
    const auto* qw = reinterpret_cast<const uint32_t*>(w.qweight);
    const auto* qz = reinterpret_cast<const uint32_t*>(w.qzeros);
    if (w.packing == W4Packing::Gemv) {
        const int ZW = gemvZerosWidth(K, g);
        for (int l = 0; l < valid; ++l) {
            const std::size_t n = static_cast<std::size_t>(n0 + l);
            const uint32_t* row = qw + n * W;
            for (int o = 0; o < W; ++o) {
                codes[static_cast<std::size_t>(o) * 64 + l] = row[o] & 0x0F0F0F0Fu;
                codes[static_cast<std::size_t>(o) * 64 + 32 + l] = (row[o] >> 4) & 0x0F0F0F0Fu;
            }
            for (int gi = 0; gi < G; ++gi) {
                scales[gi * kTile + l] = _cvtsh_ss(w.scales[n * ZW * 8 + gi]);
                negZeros[gi * kTile + l] = 0u - ((qz[n * ZW + gi / 8] >> (4 * (gi % 8))) & 0xFu);
            }
        }
        return;
    }
    // GEMM packing: qweight [K][N/8], channel 8j + t in nibble AWQ_REVERSE_ORDER[t].
    const std::size_t NW = static_cast<std::size_t>(N / 8);
    for (int l = 0; l < valid; ++l) {
        const int n = n0 + l, shift = 4 * AWQ_REVERSE_ORDER[n % 8];
        const uint32_t* column = qw + n / 8;
        for (int o = 0; o < W; ++o) {
            uint32_t even = 0, odd = 0;
            for (int j = 0; j < 4; ++j) {
                even |= ((column[(8 * static_cast<std::size_t>(o) + 2 * j) * NW] >> shift) & 0xFu) << (8 * j);
                odd |= ((column[(8 * static_cast<std::size_t>(o) + 2 * j + 1) * NW] >> shift) & 0xFu) << (8 * j);
            }
            codes[static_cast<std::size_t>(o) * 64 + l] = even;
            codes[static_cast<std::size_t>(o) * 64 + 32 + l] = odd;
        }
        for (int gi = 0; gi < G; ++gi) {
            scales[gi * kTile + l] = _cvtsh_ss(w.scales[static_cast<std::size_t>(gi) * N + n]);
            negZeros[gi * kTile + l] = 0u - ((qz[static_cast<std::size_t>(gi) * NW + n / 8] >> shift) & 0xFu);
        }
    }
}

inline __m512i broadcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// Rows m0 .. m0 + R - 1 against one tile; y tile [R][valid channels] overwritten.
template <int R>
void tileRows(const Tile& t, const Int8Rows& a, int group, int m0, float* y, int ldy, int valid) {
    const int octets = a.block / 8, blocksPerGroup = group / a.block;
    const int8_t* x[R];
    const float* sx[R];
    const int32_t* sums[R];
    for (int r = 0; r < R; ++r) {
        x[r] = a.values + static_cast<std::size_t>(m0 + r) * a.K;
        sx[r] = a.scales + static_cast<std::size_t>(m0 + r) * a.blocks;
        sums[r] = a.sums + static_cast<std::size_t>(m0 + r) * a.blocks;
    }
    __m512 total[R][2];
    for (int r = 0; r < R; ++r)
        total[r][0] = total[r][1] = _mm512_setzero_ps();
    const Vector64* codes = t.codes.data();
    for (int b = 0; b < a.blocks; ++b) {
        const int gi = b / blocksPerGroup;
        const __m512i nz0 = loadInts(t.negZeros[2 * gi]), nz1 = loadInts(t.negZeros[2 * gi + 1]);
        __m512i acc[R][2];
        for (int r = 0; r < R; ++r) {
            const __m512i sum = _mm512_set1_epi32(sums[r][b]);
            acc[r][0] = _mm512_mullo_epi32(nz0, sum);
            acc[r][1] = _mm512_mullo_epi32(nz1, sum);
        }
        for (int o = 0; o < octets; ++o) {
            const int k = b * a.block + 8 * o;
            const Vector64* c = codes + static_cast<std::size_t>(k / 8) * 4;
            const __m512i even0 = loadInts(c[0]), even1 = loadInts(c[1]), odd0 = loadInts(c[2]), odd1 = loadInts(c[3]);
            for (int r = 0; r < R; ++r) {
                const __m512i xe = broadcast4(x[r] + k), xo = broadcast4(x[r] + k + 4);
                acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], even0, xe);
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], even1, xe);
                acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], odd0, xo);
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], odd1, xo);
            }
        }
        const __m512 s0 = loadFloats(t.scales[2 * gi]), s1 = loadFloats(t.scales[2 * gi + 1]);
        for (int r = 0; r < R; ++r) {
            const __m512 s = _mm512_set1_ps(sx[r][b]);
            total[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][0]), _mm512_mul_ps(s0, s), total[r][0]);
            total[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][1]), _mm512_mul_ps(s1, s), total[r][1]);
        }
    }
    const __mmask16 mask0 = static_cast<__mmask16>(valid >= 16 ? 0xFFFFu : (1u << valid) - 1u);
    const __mmask16 mask1 = static_cast<__mmask16>(valid >= 32 ? 0xFFFFu : valid <= 16 ? 0u : (1u << (valid - 16)) - 1u);
    for (int r = 0; r < R; ++r) {
        float* yr = y + static_cast<std::size_t>(m0 + r) * ldy;
        _mm512_mask_storeu_ps(yr, mask0, total[r][0]);
        _mm512_mask_storeu_ps(yr + 16, mask1, total[r][1]);
    }
}

// Rows per micro-kernel call: 4 rows x 32 channels keep 8 integer and 8 float accumulators,
// 4 weight vectors and the broadcasts in the 32 vector registers.
constexpr int kRows = 4;

template <int R>
void tileRowsTail(int rows, const Tile& t, const Int8Rows& a, int group, int m0, float* y, int ldy, int valid) {
    if constexpr (R > 0) {
        if (rows == R)
            tileRows<R>(t, a, group, m0, y, ldy, valid);
        else
            tileRowsTail<R - 1>(rows, t, a, group, m0, y, ldy, valid);
    }
}

}  // namespace

void int8_quantize_rows_vnni(const float* x, int m0, int m1, int K, int ldx, const Int8Rows& rows) {
    // Within each 16 inputs (two octets): [0 2 4 6 1 3 5 7 | 8 10 12 14 9 11 13 15].
    const __m128i order = _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15);
    auto* values = const_cast<int8_t*>(rows.values);
    auto* scales = const_cast<float*>(rows.scales);
    auto* sums = const_cast<int32_t*>(rows.sums);
    const int vectors = rows.block / 16;
    for (int m = m0; m < m1; ++m) {
        const float* xr = x + static_cast<std::size_t>(m) * ldx;
        int8_t* out = values + static_cast<std::size_t>(m) * K;
        for (int b = 0; b < rows.blocks; ++b) {
            const float* xb = xr + b * rows.block;
            __m512 maxAbs = _mm512_setzero_ps();
            for (int j = 0; j < vectors; ++j)
                maxAbs = _mm512_max_ps(maxAbs, _mm512_abs_ps(_mm512_loadu_ps(xb + 16 * j)));
            const float mx = _mm512_reduce_max_ps(maxAbs);
            const float s = mx > 0.0f && std::isfinite(mx) ? mx / 127.0f : 1.0f;
            const __m512 inv = _mm512_set1_ps(1.0f / s);
            __m512i sum = _mm512_setzero_si512();
            for (int j = 0; j < vectors; ++j) {
                // Round to nearest even (vcvtps2dq); the clamp only bites on non-finite rows.
                const __m512i v = _mm512_min_epi32(
                    _mm512_set1_epi32(127), _mm512_max_epi32(_mm512_set1_epi32(-127),
                                                             _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb + 16 * j), inv))));
                sum = _mm512_add_epi32(sum, v);
                const __m128i bytes = _mm_shuffle_epi8(_mm512_cvtsepi32_epi8(v), order);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(out + b * rows.block + 16 * j), bytes);
            }
            scales[static_cast<std::size_t>(m) * rows.blocks + b] = s;
            sums[static_cast<std::size_t>(m) * rows.blocks + b] = _mm512_reduce_add_epi32(sum);
        }
    }
}

void int8_gemm_vnni(const W4Matrix& w, const Int8Rows& rows, int M, float* y, int ldy, int n0, int n1) {
    thread_local Tile tile;  // grown once per thread, then reused
    for (int c0 = n0; c0 < n1; c0 += kTile) {
        buildTile(w, c0, tile);
        const int valid = std::min(kTile, n1 - c0);
        int m = 0;
        for (; M - m >= kRows; m += kRows)
            tileRows<kRows>(tile, rows, w.group, m, y + c0, ldy, valid);
        tileRowsTail<kRows - 1>(M - m, tile, rows, w.group, m, y + c0, ldy, valid);
    }
}

}  // namespace awq::kernels::detail
