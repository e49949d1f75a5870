#pragma once
// y = x · Wᵀ for a weight held as int8 per block of 128 inputs (w ≈ s[n][b] · q, q in
// [-127, 127], s = max|w| / 127 of the block): the lm_head option of the fused CPU decoder
// (`--lm-head int8`), a quarter of float32's bytes and half of fp16's per decode step, as
// llama.cpp's Q8_0 (blocks of 32 there) or its Q6_K output tensor of a Q4_0 file carry it.
//
// Note [int8 weights on VNNI]: the activations are w4_prepare's 16-bit fixed-point copy
// (Note [fixed-point activations], kernels/cpu/w4_avx512_vnni.cpp), whose bytes are laid
// out per 128-input block as [even high | even low | odd high | odd low], lane c of a vector
// holding inputs 8c + 2j (+ 1) for j = 0..3. The codes are stored in the same order, +128
// so that they are the unsigned operand of vpdpbusd: per block and output channel, 128
// bytes [even | odd]. Four vpdpbusd per block give Σ (q + 128) v; the +128 comes back out
// through the block's Σ v, which w4_prepare already has (its fixed word sums).
// Error: the weight's rounding (s/2 per element) plus the activation's (max|x| / 65278 of
// its block per element); docs/quality.md states both measured.

#include <cstddef>
#include <cstdint>

#include "awq/kernels/w4_linear.h"

namespace awq::kernels {

// Inputs per int8 block (one weight scale each).
inline constexpr int kI8Block = 128;

struct I8Matrix {
    int K = 0, N = 0;                 // in, out features; K a multiple of kI8Block
    const uint8_t* codes = nullptr;   // [N][K]: q + 128, in the order of Note [int8 weights on VNNI]
    const float* scales = nullptr;    // [N][K / kI8Block]
};

// Quantizes rows [n0, n1) of w [N][K] (float32, row stride K) into codes [N][K] and scales
// [N][K / 128] laid out as I8Matrix expects. K must be a multiple of 128 (std::invalid_argument).
void i8_quantize(const float* w, int N, int K, uint8_t* codes, float* scales, int n0, int n1);

// Row n's weight as float32 (s · q) into out[K], in input order: what the kernels multiply by.
void i8_dequantize_row(const I8Matrix& w, int n, float* out);

// Whether i8_gemv has a vector path for `isa` (AVX-512 VNNI); other ISAs run the scalar
// loop, correct but slower than the fp16 weight it replaces.
bool i8_gemv_fast(CpuIsa isa);

// y[m][n] for m < M, n in [n0, n1) (row stride ldy), overwritten. x [M][K] (row stride K) is
// what `prepared` was made from: w4_prepare(x, M, K, K, 128, prepared). The VNNI path reads
// only `prepared`, the scalar path only x. 0 <= n0 <= n1 <= N (std::invalid_argument otherwise).
void i8_gemv(const I8Matrix& w, const float* x, const float* prepared, int M, float* y, int ldy, int n0, int n1,
             CpuIsa isa);

}  // namespace awq::kernels
