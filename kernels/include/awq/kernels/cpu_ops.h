#pragma once
// The float32 building blocks of the fused CPU decoder that are not matrix products:
// RMSNorm, SiLU(gate)·up, and attention of a few query rows over a KV cache. Written
// once (cpu/ops.inc) and compiled per instruction set like the W4 kernels, with
// reassociation allowed so that the reductions vectorize; exp is a branch-free
// polynomial (relative error < 2e-7 over the softmax range), not libm's.

#include "awq/kernels/w4_linear.h"

namespace awq::kernels {

// out[r][:] = weight ⊙ x[r][:] / sqrt(mean(x[r]²) + eps) for r < rows (row length n,
// contiguous rows). out may alias x.
void rms_norm(const float* x, const float* weight, int rows, int n, float eps, float* out, CpuIsa isa);

// out[r][i] = silu(gateUp[r][i]) * gateUp[r][n + i]: the stacked gate/up output [rows][2n].
void silu_mul(const float* gateUp, int rows, int n, float* out, CpuIsa isa);

// Attention of `queries` query heads that share one KV head, at the newest position:
// q [queries][D] (contiguous); keysT: the keys transposed, key s of dimension d at
// keysT[d * ldk + s] (so that the scores of 16 positions are one vector FMA per dimension,
// with no horizontal sums); values [S][D] with row stride ldv; scores: scratch
// [queries][S]; out [queries][D] (contiguous) = softmax(q·Kᵀ · scale) · V over all S positions.
void attention_rows(const float* q, int queries, const float* keysT, long ldk, const float* values, long ldv, int S,
                    int D, float scale, float* scores, float* out, CpuIsa isa);

}  // namespace awq::kernels
