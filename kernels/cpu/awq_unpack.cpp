// CPU pack / unpack / dequantize of the AutoAWQ GEMM and GEMV formats (docs/awq-format.md §2.1, §2.2).
#include "awq/kernels/awq_unpack.h"

#include <cstddef>
#include <stdexcept>
#include <string>

#include "awq/kernels/half.h"

namespace awq::kernels {
namespace {

[[noreturn]] void fail(const char* fn, const std::string& what) {
    throw std::invalid_argument(std::string(fn) + ": " + what);
}

std::string kv(const char* name, long long v) { return std::string(name) + "=" + std::to_string(v); }

void require_ptr(const char* fn, const void* p, const char* name) {
    if (p == nullptr)
        fail(fn, std::string(name) + " is null");
}

void require_positive(const char* fn, int K, int N) {
    if (K <= 0 || N <= 0)
        fail(fn, "K and N must be positive (" + kv("K", K) + ", " + kv("N", N) + ")");
}

void require_gemm_n(const char* fn, int N) {
    if (N % kAwqPackFactor != 0)
        fail(fn, "GEMM packs 8 output channels per word: N must be a multiple of 8 (" + kv("N", N) + ")");
}

void require_gemv_k(const char* fn, int K) {
    if (K % kAwqPackFactor != 0)
        fail(fn, "GEMV packs 8 input channels per word: K must be a multiple of 8 (" + kv("K", K) + ")");
}

// Returns G = K / group.
int require_group(const char* fn, int K, int group) {
    if (group <= 0)
        fail(fn, "group size must be positive (" + kv("group", group) + "; use group = K for per-channel)");
    if (K % group != 0)
        fail(fn, "K must be a multiple of the group size (" + kv("K", K) + ", " + kv("group", group) + ")");
    return K / group;
}

// Returns ZW; rewraps gemvZerosWidth's message with the calling function's name.
int require_gemv_zw(const char* fn, int K, int group) {
    require_group(fn, K, group);
    try {
        return gemvZerosWidth(K, group);
    } catch (const std::invalid_argument& e) {
        fail(fn, e.what());
    }
}

void require_codes(const char* fn, const uint8_t* v, std::size_t count, const char* what) {
    for (std::size_t i = 0; i < count; ++i)
        if (v[i] > 15)
            fail(fn, std::string(what) + " must be in 0..15, found " + std::to_string(v[i]) + " at index " +
                         std::to_string(i));
}

inline std::size_t sz(int a) { return static_cast<std::size_t>(a); }

// Shared by pack_gemm (rows = K) and pack_gemm_zeros (rows = G): src [N][rows] -> dst [rows][N/8].
void pack_gemm_impl(const uint8_t* src, int rows, int N, int32_t* dst) {
    const std::size_t words = sz(N / kAwqPackFactor);
    for (std::size_t r = 0; r < sz(rows); ++r) {
        for (std::size_t j = 0; j < words; ++j) {
            uint32_t w = 0;
            for (int t = 0; t < kAwqPackFactor; ++t) {
                const uint32_t q = src[(8 * j + sz(t)) * sz(rows) + r];
                w |= q << (4 * AWQ_REVERSE_ORDER[t]);
            }
            dst[r * words + j] = static_cast<int32_t>(w);
        }
    }
}

void unpack_gemm_impl(const int32_t* src, int rows, int N, uint8_t* dst) {
    const std::size_t words = sz(N / kAwqPackFactor);
    for (std::size_t r = 0; r < sz(rows); ++r) {
        for (std::size_t j = 0; j < words; ++j) {
            const uint32_t w = static_cast<uint32_t>(src[r * words + j]);
            for (int t = 0; t < kAwqPackFactor; ++t)
                dst[(8 * j + sz(t)) * sz(rows) + r] = static_cast<uint8_t>(awq_nibble(w, AWQ_REVERSE_ORDER[t]));
        }
    }
}

}  // namespace

// ---------------------------------------------------------------- GEMM

void pack_gemm(const uint8_t* codes, int K, int N, int32_t* qweight) {
    const char* fn = "pack_gemm";
    require_ptr(fn, codes, "codes");
    require_ptr(fn, qweight, "qweight");
    require_positive(fn, K, N);
    require_gemm_n(fn, N);
    require_codes(fn, codes, sz(N) * sz(K), "codes");
    pack_gemm_impl(codes, K, N, qweight);
}

void unpack_gemm(const int32_t* qweight, int K, int N, uint8_t* codes) {
    const char* fn = "unpack_gemm";
    require_ptr(fn, qweight, "qweight");
    require_ptr(fn, codes, "codes");
    require_positive(fn, K, N);
    require_gemm_n(fn, N);
    unpack_gemm_impl(qweight, K, N, codes);
}

void pack_gemm_zeros(const uint8_t* zeros, int G, int N, int32_t* qzeros) {
    const char* fn = "pack_gemm_zeros";
    require_ptr(fn, zeros, "zeros");
    require_ptr(fn, qzeros, "qzeros");
    require_positive(fn, G, N);
    require_gemm_n(fn, N);
    require_codes(fn, zeros, sz(N) * sz(G), "zeros");
    pack_gemm_impl(zeros, G, N, qzeros);
}

void unpack_gemm_zeros(const int32_t* qzeros, int G, int N, uint8_t* zeros) {
    const char* fn = "unpack_gemm_zeros";
    require_ptr(fn, qzeros, "qzeros");
    require_ptr(fn, zeros, "zeros");
    require_positive(fn, G, N);
    require_gemm_n(fn, N);
    unpack_gemm_impl(qzeros, G, N, zeros);
}

// ---------------------------------------------------------------- GEMV

void pack_gemv(const uint8_t* codes, int K, int N, int32_t* qweight) {
    const char* fn = "pack_gemv";
    require_ptr(fn, codes, "codes");
    require_ptr(fn, qweight, "qweight");
    require_positive(fn, K, N);
    require_gemv_k(fn, K);
    require_codes(fn, codes, sz(N) * sz(K), "codes");
    const std::size_t words = sz(K / kAwqPackFactor);
    for (std::size_t n = 0; n < sz(N); ++n) {
        const uint8_t* row = codes + n * sz(K);
        for (std::size_t c = 0; c < words; ++c) {
            uint32_t w = 0;
            for (int i = 0; i < kAwqPackFactor; ++i)
                w |= static_cast<uint32_t>(row[8 * c + sz(i)]) << (4 * i);
            qweight[n * words + c] = static_cast<int32_t>(w);
        }
    }
}

void unpack_gemv(const int32_t* qweight, int K, int N, uint8_t* codes) {
    const char* fn = "unpack_gemv";
    require_ptr(fn, qweight, "qweight");
    require_ptr(fn, codes, "codes");
    require_positive(fn, K, N);
    require_gemv_k(fn, K);
    const std::size_t words = sz(K / kAwqPackFactor);
    for (std::size_t n = 0; n < sz(N); ++n) {
        uint8_t* row = codes + n * sz(K);
        for (std::size_t c = 0; c < words; ++c) {
            const uint32_t w = static_cast<uint32_t>(qweight[n * words + c]);
            for (int i = 0; i < kAwqPackFactor; ++i)
                row[8 * c + sz(i)] = static_cast<uint8_t>(awq_nibble(w, i));
        }
    }
}

void pack_gemv_zeros(const uint8_t* zeros, int K, int N, int group, int32_t* qzeros) {
    const char* fn = "pack_gemv_zeros";
    require_ptr(fn, zeros, "zeros");
    require_ptr(fn, qzeros, "qzeros");
    require_positive(fn, K, N);
    require_gemv_k(fn, K);
    const int ZW = require_gemv_zw(fn, K, group);
    const std::size_t G = sz(K / group);
    require_codes(fn, zeros, sz(N) * G, "zeros");
    for (std::size_t n = 0; n < sz(N); ++n) {
        for (std::size_t c = 0; c < sz(ZW); ++c) {
            uint32_t w = 0;
            for (int i = 0; i < kAwqPackFactor; ++i) {
                const std::size_t grp = 8 * c + sz(i);
                if (grp < G)
                    w |= static_cast<uint32_t>(zeros[n * G + grp]) << (4 * i);
            }
            qzeros[n * sz(ZW) + c] = static_cast<int32_t>(w);
        }
    }
}

void unpack_gemv_zeros(const int32_t* qzeros, int K, int N, int group, uint8_t* zeros) {
    const char* fn = "unpack_gemv_zeros";
    require_ptr(fn, qzeros, "qzeros");
    require_ptr(fn, zeros, "zeros");
    require_positive(fn, K, N);
    require_gemv_k(fn, K);
    const int ZW = require_gemv_zw(fn, K, group);
    const std::size_t G = sz(K / group);
    for (std::size_t n = 0; n < sz(N); ++n)
        for (std::size_t grp = 0; grp < G; ++grp) {
            const uint32_t w = static_cast<uint32_t>(qzeros[n * sz(ZW) + grp / 8]);
            zeros[n * G + grp] = static_cast<uint8_t>(awq_nibble(w, static_cast<int>(grp % 8)));
        }
}

// ---------------------------------------------------------------- dequantize

void dequantize_gemm(const int32_t* qweight, const int32_t* qzeros, const uint16_t* scales_fp16, int K, int N,
                     int group, float* out) {
    const char* fn = "dequantize_gemm";
    require_ptr(fn, qweight, "qweight");
    require_ptr(fn, qzeros, "qzeros");
    require_ptr(fn, scales_fp16, "scales");
    require_ptr(fn, out, "out");
    require_positive(fn, K, N);
    require_gemm_n(fn, N);
    require_group(fn, K, group);
    const std::size_t words = sz(N / kAwqPackFactor);
    // Block of 8 output channels at a time: reads one column of words, writes 8 rows of out sequentially.
    for (std::size_t j = 0; j < words; ++j) {
        for (std::size_t k = 0; k < sz(K); ++k) {
            const std::size_t grp = k / sz(group);
            const uint32_t w = static_cast<uint32_t>(qweight[k * words + j]);
            const uint32_t z = static_cast<uint32_t>(qzeros[grp * words + j]);
            for (int t = 0; t < kAwqPackFactor; ++t) {
                const std::size_t n = 8 * j + sz(t);
                const int nib = AWQ_REVERSE_ORDER[t];
                const int d = static_cast<int>(awq_nibble(w, nib)) - static_cast<int>(awq_nibble(z, nib));
                const float s = half_to_float(scales_fp16[grp * sz(N) + n]);
                out[n * sz(K) + k] = round_to_half(static_cast<float>(d) * s);
            }
        }
    }
}

void dequantize_gemv(const int32_t* qweight, const int32_t* qzeros, const uint16_t* scales_fp16, int K, int N,
                     int group, float* out) {
    const char* fn = "dequantize_gemv";
    require_ptr(fn, qweight, "qweight");
    require_ptr(fn, qzeros, "qzeros");
    require_ptr(fn, scales_fp16, "scales");
    require_ptr(fn, out, "out");
    require_positive(fn, K, N);
    require_gemv_k(fn, K);
    const int ZW = require_gemv_zw(fn, K, group);
    const std::size_t words = sz(K / kAwqPackFactor);
    const std::size_t scale_cols = sz(ZW) * 8;
    for (std::size_t n = 0; n < sz(N); ++n) {
        const int32_t* qrow = qweight + n * words;
        const int32_t* zrow = qzeros + n * sz(ZW);
        const uint16_t* srow = scales_fp16 + n * scale_cols;
        float* orow = out + n * sz(K);
        for (std::size_t k = 0; k < sz(K); ++k) {
            const std::size_t grp = k / sz(group);
            const int q = static_cast<int>(awq_nibble(static_cast<uint32_t>(qrow[k / 8]), static_cast<int>(k % 8)));
            const int z =
                static_cast<int>(awq_nibble(static_cast<uint32_t>(zrow[grp / 8]), static_cast<int>(grp % 8)));
            orow[k] = round_to_half(static_cast<float>(q - z) * half_to_float(srow[grp]));
        }
    }
}

}  // namespace awq::kernels
