#pragma once
// Many-row product (prefill) of int4 weights with int8-quantized activations on AVX-512
// VNNI byte dot products, instead of dequantizing the weights to float32 for BLAS.
// Note [int8 activations] in kernels/cpu/w4_int8_gemm_vnni.cpp has the arithmetic.
//
// Use: w4_int8_quantize_rows once per call (all rows), then w4_int8_gemm over ranges of
// output channels (callers split N across threads in multiples of kInt8GemmChannels).
// Error: each activation is rounded to a multiple of s = max|x| / 127 of its block
// (block = 128 inputs, or the group size when it is 32 or 64), so per output
// |y - y_exact| <= sum over blocks of s/2 * sum |w| (docs/quality.md states it measured).

#include <cstddef>
#include <cstdint>

#include "awq/kernels/w4_linear.h"

namespace awq::kernels {

// Output channels per micro-kernel tile; w4_int8_gemm ranges start on multiples of it.
inline constexpr int kInt8GemmChannels = 32;

// Whether the int8 path can run this matrix with `isa`: the Avx512Vnni path on a CPU that
// has it, and a group size that is a multiple of 32 (either packing).
bool w4_int8_gemm_supported(const W4Matrix& w, CpuIsa isa);

// Inputs per activation block (one int8 scale each): 128, 64 or 32, the largest dividing the group.
int w4_int8_block(int group);

// Bytes of the workspace for M quantized rows of K inputs.
std::size_t w4_int8_rows_bytes(int M, int K, int group);

// Quantizes rows [m0, m1) of x [M][K] (row stride ldx) into `work` (w4_int8_rows_bytes(M, K,
// group), 64-byte aligned): per row and block a scale, the int8 values and their sum.
// Callers split the rows across threads. Throws std::invalid_argument without AVX-512 VNNI.
void w4_int8_quantize_rows(const float* x, int M, int K, int ldx, int group, void* work, int m0, int m1);

// y[m][n] for m < M, n in [n0, n1) (row stride ldy), overwritten; `work` as filled by
// w4_int8_quantize_rows for this matrix's K and group. n0 a multiple of kInt8GemmChannels,
// n1 a multiple of it or N. Throws std::invalid_argument when unsupported.
void w4_int8_gemm(const W4Matrix& w, const void* work, int M, float* y, int ldy, int n0, int n1);

}  // namespace awq::kernels
