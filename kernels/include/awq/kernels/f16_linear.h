#pragma once
// y = x · Wᵀ for a weight stored as fp16 [N][K] (the lm_head of an AWQ checkpoint, which
// AutoAWQ leaves in fp16): half the bytes of float32 per decode step, widened in registers
// (F16C) and accumulated in float32. Few rows (decode, the last position of a prefill);
// rows are processed four at a time over each weight row.

#include <cstdint>

#include "awq/kernels/w4_linear.h"

namespace awq::kernels {

// y[m][n] (row stride ldy) for m < M, n in [n0, n1); x [M][K] with row stride ldx.
void f16_gemv(const uint16_t* w, int K, int N, const float* x, int ldx, int M, float* y, int ldy, int n0, int n1,
              CpuIsa isa);

}  // namespace awq::kernels
