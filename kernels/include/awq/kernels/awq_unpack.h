#pragma once
// Pack, unpack and dequantize the AutoAWQ GEMM and GEMV formats on the CPU
// (docs/awq-format.md §2.1, §2.2). Plain functions over raw, caller-owned buffers.
//
// Shapes (all row-major; K = in_features, N = out_features, g = group size, G = K/g):
//   codes   uint8 [N][K]  integer codes q[n][k] in 0..15 (nn.Linear weight layout)
//   zeros   uint8 [N][G]  integer zero points z[n][grp] in 0..15
//   GEMM: qweight int32 [K][N/8], qzeros int32 [G][N/8], scales fp16 [G][N]
//   GEMV: qweight int32 [N][K/8], qzeros int32 [N][ZW], scales fp16 [N][ZW*8]
//         with ZW = gemvZerosWidth(K, g); padding nibbles/columns are written as 0.
// Requirements: K, N, g > 0; K % g == 0; GEMM needs N % 8 == 0; GEMV needs K % 8 == 0
// and g in {32, 64} or g >= 128. Per-channel quantization is g == K.
// Every violation (also a code or zero > 15, or a null pointer) throws
// std::invalid_argument with a message naming the function and the values.
//
// Dequantization gives W[n][k] = fp16((q[n][k] - z[n][k/g]) * s[k/g or n]) as float,
// i.e. exactly the fp16 weight that AutoAWQ's dequantize_gemm / dequantize_weights_cuda
// produce (the fp32 product is exact; it is rounded once to fp16, ties to even),
// written in nn.Linear layout [N][K] (the transpose of AutoAWQ's [K][N]).

#include <cstdint>

#include "awq/kernels/awq_format.h"

namespace awq::kernels {

// ---- GEMM (packed along output channels, AWQ_ORDER interleave) ----
void pack_gemm(const uint8_t* codes, int K, int N, int32_t* qweight);
void unpack_gemm(const int32_t* qweight, int K, int N, uint8_t* codes);
void pack_gemm_zeros(const uint8_t* zeros, int G, int N, int32_t* qzeros);
void unpack_gemm_zeros(const int32_t* qzeros, int G, int N, uint8_t* zeros);

// ---- GEMV (packed along input channels, natural order, padded zeros) ----
void pack_gemv(const uint8_t* codes, int K, int N, int32_t* qweight);
void unpack_gemv(const int32_t* qweight, int K, int N, uint8_t* codes);
void pack_gemv_zeros(const uint8_t* zeros, int K, int N, int group, int32_t* qzeros);
void unpack_gemv_zeros(const int32_t* qzeros, int K, int N, int group, uint8_t* zeros);

// ---- Dequantization to float [N][K] ----
void dequantize_gemm(const int32_t* qweight, const int32_t* qzeros, const uint16_t* scales_fp16,
                     int K, int N, int group, float* out);
void dequantize_gemv(const int32_t* qweight, const int32_t* qzeros, const uint16_t* scales_fp16,
                     int K, int N, int group, float* out);

}  // namespace awq::kernels
