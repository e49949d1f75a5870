// cpu_ops.h loops compiled for the avx2 path (flags in kernels/CMakeLists.txt).
#include <cstdint>

#include "ops_internal.h"

namespace awq::kernels::detail {
namespace {
#include "ops.inc"
}  // namespace

void rms_norm_avx2(const float* x, const float* weight, int rows, int n, float eps, float* out) {
    rmsNormGeneric(x, weight, rows, n, eps, out);
}
void silu_mul_avx2(const float* gateUp, int rows, int n, float* out) { siluMulGeneric(gateUp, rows, n, out); }
void attention_rows_avx2(const float* q, int queries, const float* keysT, long ldk, const float* values, long ldv,
                           int S, int D, float scale, float* scores, float* out) {
    attentionRowsGeneric(q, queries, keysT, ldk, values, ldv, S, D, scale, scores, out);
}

}  // namespace awq::kernels::detail
