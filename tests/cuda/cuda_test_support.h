#pragma once
// Shared by the CUDA kernel tests: checking CUDA calls, owning device memory, skipping
// without a GPU, drawing a random int4 linear, launching on a stream, and comparing an fp16
// product with the exact one.

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>

#include "awq/kernels/half.h"

// QVERIFY that a CUDA call succeeded, naming the call and the error.
#define CUDA_OK(expr)                                                                                     \
    do {                                                                                                  \
        const cudaError_t err_ = (expr);                                                                  \
        QVERIFY2(err_ == cudaSuccess, qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(#expr),      \
                                                                            QLatin1String(cudaGetErrorString(err_))))); \
    } while (0)

// In initTestCase: skips the whole suite, with the reason, when no GPU is visible (the build
// machines have nvcc but no GPU); otherwise names device 0.
#define SKIP_WITHOUT_GPU()                                                                                \
    do {                                                                                                  \
        int count_ = 0;                                                                                   \
        const cudaError_t err_ = cudaGetDeviceCount(&count_);                                             \
        if (err_ != cudaSuccess || count_ == 0)                                                           \
            QSKIP(qPrintable(QStringLiteral("no CUDA GPU visible (cudaGetDeviceCount: %1)")              \
                                 .arg(err_ != cudaSuccess ? QLatin1String(cudaGetErrorString(err_))      \
                                                          : QLatin1String("0 devices"))));               \
        cudaDeviceProp prop_{};                                                                           \
        if (cudaGetDeviceProperties(&prop_, 0) == cudaSuccess)                                            \
            qInfo("CUDA device 0: %s (sm_%d%d)", prop_.name, prop_.major, prop_.minor);                   \
    } while (0)

namespace awq::test {

// Owns one device allocation.
struct DeviceBuffer {
    void* ptr = nullptr;
    cudaError_t alloc(std::size_t bytes) { return cudaMalloc(&ptr, bytes); }
    ~DeviceBuffer() {
        if (ptr) cudaFree(ptr);
    }
    template <typename T> T* as() const { return static_cast<T*>(ptr); }
};

// Allocates `buffer` and copies `host` into it.
template <typename T>
cudaError_t upload(DeviceBuffer& buffer, const std::vector<T>& host) {
    const cudaError_t err = buffer.alloc(host.size() * sizeof(T));
    return err != cudaSuccess ? err : cudaMemcpy(buffer.ptr, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
}

// A random int4 linear, as the CPU reference takes it (awq_unpack.h): codes [N][K] and zero
// points [N][G] in 0..15, fp16 scales [G][N] in [1e-4, 0.08] (the GEMM packing's layout).
struct RandomLinear {
    std::vector<uint8_t> codes, zeros;
    std::vector<uint16_t> scales;
};
inline RandomLinear randomLinear(int K, int N, int g, std::mt19937& rng) {
    const int G = K / g;
    std::uniform_int_distribution<int> code(0, 15);
    std::uniform_real_distribution<float> scale(1e-4f, 0.08f);
    RandomLinear r{std::vector<uint8_t>(std::size_t(N) * K), std::vector<uint8_t>(std::size_t(N) * G),
                   std::vector<uint16_t>(std::size_t(G) * N)};
    for (auto& c : r.codes) c = uint8_t(code(rng));
    for (auto& z : r.zeros) z = uint8_t(code(rng));
    for (auto& s : r.scales) s = awq::kernels::float_to_half(scale(rng));
    return r;
}

// `count` fp16 activations uniform in [-2, 2].
inline std::vector<uint16_t> randomActivations(std::size_t count, std::mt19937& rng) {
    std::uniform_real_distribution<float> activation(-2.0f, 2.0f);
    std::vector<uint16_t> x(count);
    for (auto& v : x) v = awq::kernels::float_to_half(activation(rng));
    return x;
}

// Runs launch(stream) on a stream of its own and waits for it: the launch's error, else the
// synchronisation's.
template <typename Launch>
cudaError_t launchAndWait(Launch&& launch) {
    cudaStream_t stream = nullptr;
    cudaError_t err = cudaStreamCreate(&stream);
    if (err != cudaSuccess)
        return err;
    const cudaError_t launched = launch(stream);
    const cudaError_t synced = cudaStreamSynchronize(stream);
    cudaStreamDestroy(stream);
    return launched != cudaSuccess ? launched : synced;
}

// Checks y (fp16 [M][N], from the GPU) against the exact product of x (fp16 [M][K]) and w
// (float [N][K], nn.Linear layout) computed in double: the GPU sums in fp32 and rounds to
// fp16, so each output must lie within 1e-3 of Σ|x·w| plus an fp16 rounding of the exact
// value. Returns the first violation ("" when none); `worst` gets the largest error as a
// fraction of its bound.
inline QString productMismatch(const std::vector<uint16_t>& x, const std::vector<float>& w,
                               const std::vector<uint16_t>& y, int M, int K, int N, double& worst) {
    using awq::kernels::half_to_float;
    worst = 0;
    for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
            double exact = 0, magnitude = 0;
            for (int k = 0; k < K; ++k) {
                const double p = double(half_to_float(x[std::size_t(m) * K + k])) * w[std::size_t(n) * K + k];
                exact += p;
                magnitude += std::fabs(p);
            }
            const double got = half_to_float(y[std::size_t(m) * N + n]);
            const double bound = 1e-3 * magnitude + std::ldexp(std::fabs(exact), -11) + 1e-6;
            worst = std::max(worst, std::fabs(got - exact) / bound);
            if (!(std::fabs(got - exact) <= bound))
                return QStringLiteral("m=%1 n=%2: gpu %3, exact %4 (bound %5)").arg(m).arg(n).arg(got).arg(exact).arg(bound);
        }
    return {};
}

}  // namespace awq::test
