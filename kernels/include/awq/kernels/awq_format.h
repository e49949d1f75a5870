#pragma once
// Constants and closed forms of the AutoAWQ on-disk formats (docs/awq-format.md §2).
//
// GEMM (§2.1): qweight int32 [K][N/8], qzeros int32 [K/g][N/8], scales fp16 [K/g][N].
//   Packed along output channels; nibble i of word (k, j) holds channel 8j + AWQ_ORDER[i],
//   i.e. channel 8j + t lives in nibble AWQ_REVERSE_ORDER[t].
//   Codes 0..7 on channels 8j..8j+7 pack to 0x75316420.
// GEMV (§2.2): qweight int32 [N][K/8], qzeros int32 [N][ZW], scales fp16 [N][ZW*8].
//   Packed along input channels in natural order: nibble i of word (n, c) holds k = 8c + i.
//   Codes 0..7 on k = 8c..8c+7 pack to 0x76543210. Zero/scale columns >= K/g are padding (0).
// Words are read as uint32 when shifting (nibble 7 >= 8 makes the int32 negative).

#include <cstdint>
#include <stdexcept>
#include <string>

namespace awq::kernels {

inline constexpr int kAwqBits = 4;
inline constexpr int kAwqPackFactor = 8;  // 4-bit codes per 32-bit word
inline constexpr int AWQ_ORDER[8] = {0, 2, 4, 6, 1, 3, 5, 7};
inline constexpr int AWQ_REVERSE_ORDER[8] = {0, 4, 1, 5, 2, 6, 3, 7};

// GEMM: the output channel (offset within its block of 8) stored in nibble i.
constexpr int gemm_channel_of_nibble(int i) { return AWQ_ORDER[i]; }
// GEMM: the nibble that holds output channel 8j + t.
constexpr int gemm_nibble_of_channel(int t) { return AWQ_REVERSE_ORDER[t]; }

// Nibble i (0..7) of a packed word, read as unsigned.
constexpr uint32_t awq_nibble(uint32_t word, int i) { return (word >> (4 * i)) & 0xFu; }
constexpr uint32_t awq_nibble(int32_t word, int i) {
    return awq_nibble(static_cast<uint32_t>(word), i);
}
// The word with nibble i replaced by code (0..15).
constexpr uint32_t awq_set_nibble(uint32_t word, int i, uint32_t code) {
    return (word & ~(0xFu << (4 * i))) | ((code & 0xFu) << (4 * i));
}

// Width in int32 words of a GEMV qzeros row (AutoAWQ calculate_zeros_width):
// w0 = ceil((K/g)/8); m = 1 for g >= 128, 2 for g == 64, 4 for g == 32; ZW = ceil(w0/m)*m.
// Throws std::invalid_argument for other group sizes, non-positive sizes or K % g != 0.
inline int gemvZerosWidth(int K, int g) {
    if (K <= 0 || g <= 0)
        throw std::invalid_argument("gemvZerosWidth: K and group size must be positive (K=" +
                                    std::to_string(K) + ", g=" + std::to_string(g) + ")");
    if (K % g != 0)
        throw std::invalid_argument("gemvZerosWidth: K=" + std::to_string(K) +
                                    " is not a multiple of the group size " + std::to_string(g));
    int m;
    if (g >= 128)
        m = 1;
    else if (g == 64)
        m = 2;
    else if (g == 32)
        m = 4;
    else
        throw std::invalid_argument("gemvZerosWidth: GEMV supports group sizes 32, 64 or >= 128, not " +
                                    std::to_string(g));
    const int groups = K / g;
    const int w0 = (groups + kAwqPackFactor - 1) / kAwqPackFactor;
    return (w0 + m - 1) / m * m;
}

}  // namespace awq::kernels
