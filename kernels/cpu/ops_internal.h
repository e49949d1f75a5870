#pragma once
// Per-ISA entry points of cpu_ops.h (internal to kernels/).

namespace awq::kernels::detail {

#define AWQ_DECLARE_OPS(isa)                                                                                     \
    void rms_norm_##isa(const float* x, const float* weight, int rows, int n, float eps, float* out);            \
    void silu_mul_##isa(const float* gateUp, int rows, int n, float* out);                                       \
    void attention_rows_##isa(const float* q, int queries, const float* keysT, long ldk, const float* values,   \
                              long ldv, int S, int D, float scale, float* scores, float* out);
AWQ_DECLARE_OPS(scalar)
AWQ_DECLARE_OPS(avx2)
AWQ_DECLARE_OPS(avx512)
#undef AWQ_DECLARE_OPS

}  // namespace awq::kernels::detail
