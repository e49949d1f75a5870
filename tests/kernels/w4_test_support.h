#pragma once
// Shared by the W4 kernel tests (tst_w4_kernels, tst_w4_activations): random quantized linears
// kept as codes and in both packings, the float64 oracle, and the checks' helpers.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "awq/kernels/awq_format.h"
#include "awq/kernels/awq_unpack.h"
#include "awq/kernels/half.h"
#include "awq/kernels/w4_linear.h"

namespace w4test {

using namespace awq::kernels;

// One random quantized linear, kept as codes (the truth) and in both packings.
struct Case {
    int K, N, group;
    std::vector<uint8_t> codes;   // [N][K]
    std::vector<uint8_t> zeros;   // [N][G]
    std::vector<float> scale;     // [N][G], exactly fp16 values
    std::vector<int32_t> gemmQ, gemmZ, gemvQ, gemvZ;
    std::vector<uint16_t> gemmS, gemvS;

    W4Matrix matrix(W4Packing packing) const {
        W4Matrix m;
        m.packing = packing;
        m.K = K;
        m.N = N;
        m.group = group;
        const bool gemm = packing == W4Packing::Gemm;
        m.qweight = gemm ? gemmQ.data() : gemvQ.data();
        m.qzeros = gemm ? gemmZ.data() : gemvZ.data();
        m.scales = gemm ? gemmS.data() : gemvS.data();
        return m;
    }
    // Exact dequantized weight (q - z) * s in double.
    double weight(int n, int k) const {
        const int gi = k / group, G = K / group;
        return (static_cast<int>(codes[static_cast<std::size_t>(n) * K + k]) -
                static_cast<int>(zeros[static_cast<std::size_t>(n) * G + gi])) *
               static_cast<double>(scale[static_cast<std::size_t>(n) * G + gi]);
    }
};

inline Case makeCase(int K, int N, int group, uint32_t seed, bool withGemv = true) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> code(0, 15);
    std::uniform_real_distribution<float> mag(1e-3f, 0.05f);
    Case c{K, N, group, {}, {}, {}, {}, {}, {}, {}, {}, {}};
    const int G = K / group;
    c.codes.resize(static_cast<std::size_t>(N) * K);
    for (auto& v : c.codes) v = static_cast<uint8_t>(code(rng));
    c.zeros.resize(static_cast<std::size_t>(N) * G);
    for (auto& v : c.zeros) v = static_cast<uint8_t>(code(rng));
    c.scale.resize(c.zeros.size());
    std::vector<uint16_t> scaleBits(c.zeros.size());
    for (std::size_t i = 0; i < c.scale.size(); ++i) {
        float s = mag(rng);
        if (i % 7 == 3) s = -s;  // the kernels must not assume positive scales
        scaleBits[i] = float_to_half(s);
        c.scale[i] = half_to_float(scaleBits[i]);
    }
    // GEMM: qweight [K][N/8] packs codes given as [N][K]; zeros [G][N/8]; scales [G][N].
    c.gemmQ.resize(static_cast<std::size_t>(K) * N / 8);
    pack_gemm(c.codes.data(), K, N, c.gemmQ.data());
    c.gemmZ.resize(static_cast<std::size_t>(G) * N / 8);
    pack_gemm_zeros(c.zeros.data(), G, N, c.gemmZ.data());
    c.gemmS.resize(static_cast<std::size_t>(G) * N);
    for (int n = 0; n < N; ++n)
        for (int gi = 0; gi < G; ++gi)
            c.gemmS[static_cast<std::size_t>(gi) * N + n] = scaleBits[static_cast<std::size_t>(n) * G + gi];
    if (withGemv) {
        const int ZW = gemvZerosWidth(K, group);
        c.gemvQ.resize(static_cast<std::size_t>(N) * K / 8);
        pack_gemv(c.codes.data(), K, N, c.gemvQ.data());
        c.gemvZ.resize(static_cast<std::size_t>(N) * ZW);
        pack_gemv_zeros(c.zeros.data(), K, N, group, c.gemvZ.data());
        c.gemvS.assign(static_cast<std::size_t>(N) * ZW * 8, 0);
        for (int n = 0; n < N; ++n)
            for (int gi = 0; gi < G; ++gi)
                c.gemvS[static_cast<std::size_t>(n) * ZW * 8 + gi] = scaleBits[static_cast<std::size_t>(n) * G + gi];
    }
    return c;
}

inline std::vector<float> randomActivations(int M, int ld, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(M) * ld);
    for (auto& v : x) v = d(rng);
    return x;
}

// y = x · W^T in double over the exact weights.
inline std::vector<double> reference(const Case& c, const std::vector<float>& x, int M, int ldx) {
    std::vector<double> w(static_cast<std::size_t>(c.N) * c.K);
    for (int n = 0; n < c.N; ++n)
        for (int k = 0; k < c.K; ++k) w[static_cast<std::size_t>(n) * c.K + k] = c.weight(n, k);
    std::vector<double> y(static_cast<std::size_t>(M) * c.N, 0.0);
    for (int m = 0; m < M; ++m)
        for (int n = 0; n < c.N; ++n) {
            double acc = 0.0;
            const double* wr = &w[static_cast<std::size_t>(n) * c.K];
            const float* xr = &x[static_cast<std::size_t>(m) * ldx];
            for (int k = 0; k < c.K; ++k) acc += wr[k] * xr[k];
            y[static_cast<std::size_t>(m) * c.N + n] = acc;
        }
    return y;
}

// max |y - ref| / max |ref| over the columns [n0, n1).
inline double relativeError(const std::vector<float>& y, int ldy, const std::vector<double>& ref, int M, int N, int n0,
                     int n1) {
    double err = 0.0, scale = 0.0;
    for (int m = 0; m < M; ++m)
        for (int n = n0; n < n1; ++n) {
            const double r = ref[static_cast<std::size_t>(m) * N + n];
            err = std::max(err, std::abs(y[static_cast<std::size_t>(m) * ldy + n] - r));
            scale = std::max(scale, std::abs(r));
        }
    return scale > 0 ? err / scale : err;
}

// The VNNI g128 kernels multiply int8 activations (Note [int8 activations] in
// kernels/cpu/w4_avx512_vnni.cpp). Two checks per output, returning the first violation or "":
// - the product of the exact weights with the int8-rounded activations (s = max|x| / 127 per
//   128-input block, v = round(x / s), as w4_prepare writes them; tst_w4_activations checks
//   that), in float64, agrees to float rounding: 1e-5 of Σ|w v s| (a wrong scale, block or
//   zero-point term shows up here);
// - the error against the float64 reference lies within Σ|w| · max|x| / 254 over the blocks
//   (half an int8 step per activation), the documented bound.
inline std::string int8RowsError(const Case& c, const std::vector<float>& x, const std::vector<float>& y,
                          const std::vector<double>& ref, int M) {
    const int K = c.K, N = c.N;
    std::vector<double> rounded(static_cast<std::size_t>(K));  // v s of one row
    for (int m = 0; m < M; ++m) {
        const float* xr = x.data() + static_cast<std::size_t>(m) * K;
        for (int b = 0; b < K / 128; ++b) {
            float maxAbs = 0.0f;
            for (int k = 128 * b; k < 128 * (b + 1); ++k) maxAbs = std::max(maxAbs, std::abs(xr[k]));
            const float s = maxAbs > 0.0f && std::isfinite(maxAbs) ? maxAbs / 127.0f : 1.0f;
            for (int k = 128 * b; k < 128 * (b + 1); ++k)
                rounded[static_cast<std::size_t>(k)] =
                    std::clamp(static_cast<int>(std::lrint(xr[k] * (1.0f / s))), -127, 127) * static_cast<double>(s);
        }
        for (int n = 0; n < N; ++n) {
            double bound = 0.0, magnitude = 0.0, exact8 = 0.0, magnitude8 = 0.0;
            for (int b = 0; b < K / 128; ++b) {
                double maxAbs = 0.0, sumW = 0.0;
                for (int k = 128 * b; k < 128 * (b + 1); ++k) {
                    const double xk = xr[k], wk = c.weight(n, k), vk = rounded[static_cast<std::size_t>(k)];
                    maxAbs = std::max(maxAbs, std::abs(xk));
                    sumW += std::abs(wk);
                    magnitude += std::abs(wk * xk);
                    exact8 += wk * vk;
                    magnitude8 += std::abs(wk * vk);
                }
                bound += sumW * maxAbs / 254.0;
            }
            const std::size_t i = static_cast<std::size_t>(m) * N + n;
            const std::string where = "int8 rows m=" + std::to_string(m) + " n=" + std::to_string(n) + ": ";
            const double err8 = std::abs(y[i] - exact8);
            if (err8 > 1e-5 * magnitude8 + 1e-30)
                return where + "off the int8-rounded product by " + std::to_string(err8) + " (magnitude " +
                       std::to_string(magnitude8) + ")";
            const double err = std::abs(y[i] - ref[i]);
            if (err > bound * (1 + 1e-5) + 1e-5 * magnitude)
                return where + "error " + std::to_string(err) + " > bound " + std::to_string(bound);
        }
    }
    return {};
}

inline std::vector<CpuIsa> supportedIsas() {
    std::vector<CpuIsa> isas;
    for (CpuIsa isa : kAllCpuIsas)
        if (cpuIsaSupported(isa)) isas.push_back(isa);
    return isas;
}

inline std::vector<float> runGemv(const Case& c, W4Packing packing, CpuIsa isa, const std::vector<float>& x, int M, int ldx,
                           int ldy, int n0, int n1, float fill = NAN) {
    std::vector<float> work(w4_prepare_floats(M, c.K, c.group));
    w4_prepare(x.data(), M, c.K, ldx, c.group, work.data());
    std::vector<float> y(static_cast<std::size_t>(M) * ldy, fill);
    w4_gemv(c.matrix(packing), x.data(), ldx, work.data(), M, y.data(), ldy, n0, n1, isa);
    return y;
}

inline std::string label(const Case& c, W4Packing p, CpuIsa isa, int M) {
    return std::string(p == W4Packing::Gemm ? "gemm" : "gemv") + " " + cpuIsaName(isa) + " K=" + std::to_string(c.K) +
           " N=" + std::to_string(c.N) + " g=" + std::to_string(c.group) + " M=" + std::to_string(M);
}


}  // namespace w4test
