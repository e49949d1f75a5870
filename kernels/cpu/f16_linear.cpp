// f16_linear.h: dispatch and the portable scalar path.
#include "awq/kernels/f16_linear.h"

#include <cstddef>
#include <stdexcept>
#include <string>

#include "awq/kernels/half.h"

namespace awq::kernels {

namespace detail {
void f16_gemv_avx512(const uint16_t* w, int K, const float* x, int ldx, int M, float* y, int ldy, int n0, int n1);
void f16_gemv_avx2(const uint16_t* w, int K, const float* x, int ldx, int M, float* y, int ldy, int n0, int n1);
}  // namespace detail

void f16_gemv(const uint16_t* w, int K, int N, const float* x, int ldx, int M, float* y, int ldy, int n0, int n1,
              CpuIsa isa) {
    if (!w || !x || !y || K <= 0 || n0 < 0 || n1 > N || n0 > n1)
        throw std::invalid_argument("f16_gemv: bad arguments (K=" + std::to_string(K) + ", N=" + std::to_string(N) +
                                    ", range [" + std::to_string(n0) + ", " + std::to_string(n1) + "))");
    if (!cpuIsaSupported(isa))
        throw std::invalid_argument(std::string("f16_gemv: this CPU cannot run the ") + cpuIsaName(isa) + " path");
    switch (isa) {
    case CpuIsa::Avx512:
    case CpuIsa::Avx512Vnni:
        return detail::f16_gemv_avx512(w, K, x, ldx, M, y, ldy, n0, n1);
    case CpuIsa::Avx2:
        return detail::f16_gemv_avx2(w, K, x, ldx, M, y, ldy, n0, n1);
    case CpuIsa::Scalar:
        break;
    }
    for (int n = n0; n < n1; ++n) {
        const uint16_t* row = w + static_cast<std::size_t>(n) * K;
        for (int m = 0; m < M; ++m) {
            const float* xr = x + static_cast<std::size_t>(m) * ldx;
            float acc = 0.0f;
            for (int k = 0; k < K; ++k)
                acc += half_to_float(row[k]) * xr[k];
            y[static_cast<std::size_t>(m) * ldy + n] = acc;
        }
    }
}

}  // namespace awq::kernels
