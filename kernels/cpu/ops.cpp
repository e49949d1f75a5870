// cpu_ops.h: run-time dispatch to the per-ISA copies of ops.inc.
#include "awq/kernels/cpu_ops.h"

#include "ops_internal.h"

namespace awq::kernels {

void rms_norm(const float* x, const float* weight, int rows, int n, float eps, float* out, CpuIsa isa) {
    switch (isa) {
    case CpuIsa::Avx512:
    case CpuIsa::Avx512Vnni: return detail::rms_norm_avx512(x, weight, rows, n, eps, out);
    case CpuIsa::Avx2: return detail::rms_norm_avx2(x, weight, rows, n, eps, out);
    case CpuIsa::Scalar: return detail::rms_norm_scalar(x, weight, rows, n, eps, out);
    }
}

void silu_mul(const float* gateUp, int rows, int n, float* out, CpuIsa isa) {
    switch (isa) {
    case CpuIsa::Avx512:
    case CpuIsa::Avx512Vnni: return detail::silu_mul_avx512(gateUp, rows, n, out);
    case CpuIsa::Avx2: return detail::silu_mul_avx2(gateUp, rows, n, out);
    case CpuIsa::Scalar: return detail::silu_mul_scalar(gateUp, rows, n, out);
    }
}

void attention_rows(const float* q, int queries, const float* keysT, long ldk, const float* values, long ldv, int S,
                    int D, float scale, float* scores, float* out, CpuIsa isa) {
    switch (isa) {
    case CpuIsa::Avx512:
    case CpuIsa::Avx512Vnni:
        return detail::attention_rows_avx512(q, queries, keysT, ldk, values, ldv, S, D, scale, scores, out);
    case CpuIsa::Avx2:
        return detail::attention_rows_avx2(q, queries, keysT, ldk, values, ldv, S, D, scale, scores, out);
    case CpuIsa::Scalar:
        return detail::attention_rows_scalar(q, queries, keysT, ldk, values, ldv, S, D, scale, scores, out);
    }
}

}  // namespace awq::kernels
