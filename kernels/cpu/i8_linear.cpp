// i8_linear.h: quantization, the code order, dispatch and the portable scalar path.
#include "awq/kernels/i8_linear.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace awq::kernels {

namespace detail {
void i8_gemv_vnni(const I8Matrix& w, const float* prepared, int M, float* y, int ldy, int n0, int n1);
}  // namespace detail

namespace {

// Position of input k (0..127) inside its block's 128 bytes (Note [int8 weights on VNNI]):
// input 8c + 2j + odd sits at byte 64·odd + 4c + j.
inline int bytePosition(int k) {
    const int c = k / 8, within = k % 8;
    return 64 * (within & 1) + 4 * c + within / 2;
}

void checkShape(int K, int N, const char* who) {
    if (K <= 0 || N <= 0 || K % kI8Block != 0)
        throw std::invalid_argument(std::string(who) + ": in_features must be a positive multiple of " +
                                    std::to_string(kI8Block) + " (K=" + std::to_string(K) +
                                    ", N=" + std::to_string(N) + ")");
}

}  // namespace

void i8_quantize(const float* w, int N, int K, uint8_t* codes, float* scales, int n0, int n1) {
    checkShape(K, N, "i8_quantize");
    if (n0 < 0 || n1 > N || n0 > n1)
        throw std::invalid_argument("i8_quantize: row range outside [0, N)");
    const int B = K / kI8Block;
    for (int n = n0; n < n1; ++n) {
        const float* row = w + static_cast<std::size_t>(n) * K;
        for (int b = 0; b < B; ++b) {
            const float* wb = row + kI8Block * b;
            float maxAbs = 0.0f;
            for (int k = 0; k < kI8Block; ++k)
                maxAbs = std::max(maxAbs, std::abs(wb[k]));
            if (!std::isfinite(maxAbs))
                throw std::invalid_argument("i8_quantize: row " + std::to_string(n) + " of those given holds a non-finite weight");
            const float s = maxAbs > 0.0f ? maxAbs / 127.0f : 1.0f;
            scales[static_cast<std::size_t>(n) * B + b] = s;
            uint8_t* out = codes + static_cast<std::size_t>(n) * K + kI8Block * b;
            for (int k = 0; k < kI8Block; ++k) {
                const long q = std::clamp(std::lrint(wb[k] / s), -127L, 127L);
                out[bytePosition(k)] = static_cast<uint8_t>(q + 128);
            }
        }
    }
}

void i8_dequantize_row(const I8Matrix& w, int n, float* out) {
    const int B = w.K / kI8Block;
    const uint8_t* row = w.codes + static_cast<std::size_t>(n) * w.K;
    for (int b = 0; b < B; ++b) {
        const float s = w.scales[static_cast<std::size_t>(n) * B + b];
        for (int k = 0; k < kI8Block; ++k)
            out[kI8Block * b + k] = s * static_cast<float>(static_cast<int>(row[kI8Block * b + bytePosition(k)]) - 128);
    }
}

bool i8_gemv_fast(CpuIsa isa) { return isa == CpuIsa::Avx512Vnni && cpuIsaSupported(isa); }

void i8_gemv(const I8Matrix& w, const float* x, const float* prepared, int M, float* y, int ldy, int n0, int n1,
             CpuIsa isa) {
    checkShape(w.K, w.N, "i8_gemv");
    if (!w.codes || !w.scales || !y || n0 < 0 || n1 > w.N || n0 > n1 || M < 0)
        throw std::invalid_argument("i8_gemv: bad arguments (K=" + std::to_string(w.K) + ", N=" +
                                    std::to_string(w.N) + ", range [" + std::to_string(n0) + ", " +
                                    std::to_string(n1) + "))");
    if (!cpuIsaSupported(isa))
        throw std::invalid_argument(std::string("i8_gemv: this CPU cannot run the ") + cpuIsaName(isa) + " path");
    if (M == 0 || n0 == n1)
        return;
    if (i8_gemv_fast(isa)) {
        if (!prepared)
            throw std::invalid_argument("i8_gemv: the VNNI path needs w4_prepare's workspace");
        detail::i8_gemv_vnni(w, prepared, M, y, ldy, n0, n1);
        return;
    }
    if (!x)
        throw std::invalid_argument("i8_gemv: the scalar path needs the float32 activations");
    // Scalar: Σ_b s_b Σ_k q_k x_k, the codes read in their stored order.
    const int K = w.K, B = K / kI8Block;
    for (int n = n0; n < n1; ++n) {
        const uint8_t* row = w.codes + static_cast<std::size_t>(n) * K;
        const float* s = w.scales + static_cast<std::size_t>(n) * B;
        for (int m = 0; m < M; ++m) {
            const float* xr = x + static_cast<std::size_t>(m) * K;
            float total = 0.0f;
            for (int b = 0; b < B; ++b) {
                float acc = 0.0f;
                for (int k = 0; k < kI8Block; ++k)
                    acc += static_cast<float>(static_cast<int>(row[kI8Block * b + bytePosition(k)]) - 128) *
                           xr[kI8Block * b + k];
                total += s[b] * acc;
            }
            y[static_cast<std::size_t>(m) * ldy + n] = total;
        }
    }
}

}  // namespace awq::kernels
