// awq_cuda_kernel_bench: times the CUDA int4 kernels against cuBLAS fp16 on the linear
// shapes of TinyLlama-1.1B and Llama-2-7B, at decode sizes (1, 2, 4, 8 rows) and, for the
// dequantize-then-GEMM path, at prefill sizes. Prints one row per shape, rows and kernel:
// the median time of the repeats and the weight bytes read per second, next to the
// device's copy bandwidth measured first. Plain CUDA + cuBLAS, no LibTorch; for a machine
// with a GPU (issue 6; figures go to docs/benchmarks.md with the device named).
//   build/bin/awq_cuda_kernel_bench [--repeats N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include "awq/kernels/awq_dequantize_cuda.h"
#include "awq/kernels/awq_format.h"
#include "awq/kernels/awq_gemm_gemv_cuda.h"
#include "awq/kernels/awq_gemv_cuda.h"

namespace {

void check(cudaError_t err, const char* what) {
    if (err != cudaSuccess) {
        std::fprintf(stderr, "awq_cuda_kernel_bench: %s: %s\n", what, cudaGetErrorString(err));
        std::exit(1);
    }
}
void check(cublasStatus_t status, const char* what) {
    if (status != CUBLAS_STATUS_SUCCESS) {
        std::fprintf(stderr, "awq_cuda_kernel_bench: %s: cuBLAS status %d\n", what, static_cast<int>(status));
        std::exit(1);
    }
}

struct Buffer {
    void* ptr = nullptr;
    explicit Buffer(std::size_t bytes) { check(cudaMalloc(&ptr, bytes), "cudaMalloc"); }
    ~Buffer() { cudaFree(ptr); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    template <typename T> T* as() const { return static_cast<T*>(ptr); }
};

// Random bytes: the kernels' speed does not depend on the values (scales are kept small
// so that fp16 stays finite).
void fillRandom(void* device, std::size_t bytes, unsigned seed) {
    std::vector<uint8_t> host(bytes);
    std::mt19937 rng(seed);
    for (auto& b : host) b = static_cast<uint8_t>(rng());
    check(cudaMemcpy(device, host.data(), bytes, cudaMemcpyHostToDevice), "upload");
}
void fillHalf(__half* device, std::size_t count, float value) {
    std::vector<__half> host(count, __float2half(value));
    check(cudaMemcpy(device, host.data(), count * sizeof(__half), cudaMemcpyHostToDevice), "upload");
}

// Median milliseconds of `repeats` runs of fn after 3 warm-up runs.
template <typename Fn>
double medianMs(int repeats, cudaStream_t stream, Fn fn) {
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start), "event");
    check(cudaEventCreate(&stop), "event");
    for (int i = 0; i < 3; ++i) fn();
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        check(cudaEventRecord(start, stream), "record");
        fn();
        check(cudaEventRecord(stop, stream), "record");
        check(cudaEventSynchronize(stop), "sync");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start, stop), "elapsed");
        times.push_back(ms);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

struct Shape {
    const char* model;
    const char* name;
    int K, N;
};

}  // namespace

int main(int argc, char** argv) {
    int repeats = 50;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) {
            repeats = std::max(1, std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: awq_cuda_kernel_bench [--repeats N]\n");
            return 2;
        }
    }
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::fprintf(stderr, "awq_cuda_kernel_bench: no CUDA GPU visible\n");
        return 1;
    }
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "properties");
    cudaStream_t stream;
    check(cudaStreamCreate(&stream), "stream");
    cublasHandle_t blas;
    check(cublasCreate(&blas), "cublasCreate");
    check(cublasSetStream(blas, stream), "cublasSetStream");

    const std::size_t copyBytes = std::size_t(1) << 30;
    Buffer copyA(copyBytes), copyB(copyBytes);
    const double copyMs = medianMs(10, stream, [&] {
        check(cudaMemcpyAsync(copyB.ptr, copyA.ptr, copyBytes, cudaMemcpyDeviceToDevice, stream), "copy");
    });
    const double copyGBs = 2.0 * copyBytes / (copyMs * 1e6); // read + write
    std::printf("device: %s (sm_%d%d), device-to-device copy %.0f GB/s (read + write), %d repeats\n\n", prop.name,
                prop.major, prop.minor, copyGBs, repeats);
    std::printf("| model | linear | K -> N | rows | kernel | time (us) | weight GB/s |\n|---|---|---|---:|---|---:|---:|\n");

    const Shape shapes[] = {{"tinyllama-1.1b", "qkv", 2048, 2560},  {"tinyllama-1.1b", "o", 2048, 2048},
                            {"tinyllama-1.1b", "gate_up", 2048, 11264}, {"tinyllama-1.1b", "down", 5632, 2048},
                            {"llama-2-7b", "qkv", 4096, 12288},     {"llama-2-7b", "o", 4096, 4096},
                            {"llama-2-7b", "gate_up", 4096, 22016}, {"llama-2-7b", "down", 11008, 4096}};
    const int group = 128;
    for (const Shape& s : shapes) {
        const int K = s.K, N = s.N, G = K / group, ZW = awq::kernels::gemvZerosWidth(K, group);
        const int maxRows = 2048;
        Buffer x(std::size_t(maxRows) * K * 2), y(std::size_t(maxRows) * N * 2);
        Buffer gemmQ(std::size_t(K) * N / 2), gemmZ(std::size_t(G) * N / 2), gemmS(std::size_t(G) * N * 2);
        Buffer gemvQ(std::size_t(K) * N / 2), gemvZ(std::size_t(N) * ZW * 4), gemvS(std::size_t(N) * ZW * 8 * 2);
        Buffer dense(std::size_t(K) * N * 2);
        fillRandom(gemmQ.ptr, std::size_t(K) * N / 2, 1);
        fillRandom(gemmZ.ptr, std::size_t(G) * N / 2, 2);
        fillRandom(gemvQ.ptr, std::size_t(K) * N / 2, 3);
        fillRandom(gemvZ.ptr, std::size_t(N) * ZW * 4, 4);
        fillHalf(gemmS.as<__half>(), std::size_t(G) * N, 0.01f);
        fillHalf(gemvS.as<__half>(), std::size_t(N) * ZW * 8, 0.01f);
        fillHalf(dense.as<__half>(), std::size_t(K) * N, 0.01f);
        fillHalf(x.as<__half>(), std::size_t(maxRows) * K, 0.5f);
        const double int4Bytes = K * double(N) / 2 + G * double(N) * 2.5; // codes + scales + zeros
        const double fp16Bytes = K * double(N) * 2;
        const std::size_t workBytes = awq::kernels::awq_gemm_gemv_workspace_bytes(8, K, N, group);
        Buffer work(workBytes);
        const __half one = __float2half(1.0f), zero = __float2half(0.0f);
        // y[M][N] = x[M][K] · W[K][N] in row-major terms: cuBLAS (column-major) computes
        // yᵀ[N][M] = Wᵀ[N][K] · xᵀ[K][M] with W stored [K][N] row-major = [N][K] column-major.
        auto fp16Gemm = [&](int M, const __half* w) {
            check(cublasHgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, w, N, x.as<__half>(), K, &zero,
                              y.as<__half>(), N), "cublasHgemm");
        };
        auto row = [&](int M, const char* kernel, double ms, double bytes) {
            std::printf("| %s | %s | %d -> %d | %d | %s | %.1f | %.0f |\n", s.model, s.name, K, N, M, kernel,
                        ms * 1e3, bytes / (ms * 1e6));
        };
        for (int M : {1, 2, 4, 8}) {
            row(M, "fp16 cuBLAS", medianMs(repeats, stream, [&] { fp16Gemm(M, dense.as<__half>()); }), fp16Bytes);
            row(M, "int4 GEMV packing", medianMs(repeats, stream, [&] {
                    check(awq::kernels::awq_gemv_forward_cuda(x.as<__half>(), M, gemvQ.as<int32_t>(), gemvZ.as<int32_t>(),
                                                              gemvS.as<__half>(), K, N, group, y.as<__half>(), stream),
                          "awq_gemv_forward_cuda");
                }), int4Bytes);
            row(M, "int4 GEMM packing", medianMs(repeats, stream, [&] {
                    check(awq::kernels::awq_gemm_gemv_forward_cuda(x.as<__half>(), M, gemmQ.as<int32_t>(),
                                                                   gemmZ.as<int32_t>(), gemmS.as<__half>(), K, N, group,
                                                                   y.as<__half>(), work.ptr, workBytes, stream),
                          "awq_gemm_gemv_forward_cuda");
                }), int4Bytes);
        }
        for (int M : {8, 512, 2048}) {
            row(M, "fp16 cuBLAS", medianMs(repeats, stream, [&] { fp16Gemm(M, dense.as<__half>()); }), fp16Bytes);
            row(M, "int4 dequantize + cuBLAS", medianMs(repeats, stream, [&] {
                    check(awq::kernels::awq_dequantize_gemm_cuda(gemmQ.as<int32_t>(), gemmZ.as<int32_t>(),
                                                                 gemmS.as<__half>(), K, N, group, dense.as<__half>(),
                                                                 stream),
                          "awq_dequantize_gemm_cuda");
                    fp16Gemm(M, dense.as<__half>());
                }), int4Bytes);
        }
    }
    cublasDestroy(blas);
    cudaStreamDestroy(stream);
    return 0;
}
