// CUDA dequantization of the AutoAWQ GEMM format to fp16 [K][N] (docs/awq-format.md §2.1).
#include "awq/kernels/awq_dequantize_cuda.h"

#include <cstddef>
#include <cstdint>

namespace awq::kernels {
namespace {

// Nibble holding output channel 8j + t (AWQ_REVERSE_ORDER): channel t sits at bits 4 * REV[t].
__device__ __forceinline__ int reverse_order(int t) {
    // {0, 4, 1, 5, 2, 6, 3, 7}: even t -> t/2, odd t -> 4 + t/2.
    return (t >> 1) + ((t & 1) << 2);
}

// One thread per packed word qweight[k][j]: writes out[k][8j .. 8j+7].
__global__ void dequantize_gemm_kernel(const int32_t* __restrict__ qweight, const int32_t* __restrict__ qzeros,
                                       const __half* __restrict__ scales, int K, int N, int group,
                                       __half* __restrict__ out) {
    const int64_t words_per_row = N / 8;
    const int64_t total = static_cast<int64_t>(K) * words_per_row;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    const bool vector_store = (reinterpret_cast<uintptr_t>(out) & 15u) == 0;
    for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        const int64_t k = idx / words_per_row;
        const int64_t j = idx - k * words_per_row;
        const int64_t grp = k / group;
        const uint32_t w = static_cast<uint32_t>(qweight[idx]);
        const uint32_t z = static_cast<uint32_t>(qzeros[grp * words_per_row + j]);
        const __half* srow = scales + grp * N + 8 * j;
        __align__(16) __half v[8];
#pragma unroll
        for (int t = 0; t < 8; ++t) {
            const int shift = 4 * reverse_order(t);
            const int d = static_cast<int>((w >> shift) & 0xFu) - static_cast<int>((z >> shift) & 0xFu);
            v[t] = __float2half_rn(static_cast<float>(d) * __half2float(srow[t]));
        }
        __half* dst = out + k * N + 8 * j;
        if (vector_store) {
            *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(v);
        } else {
#pragma unroll
            for (int t = 0; t < 8; ++t)
                dst[t] = v[t];
        }
    }
}

}  // namespace

cudaError_t awq_dequantize_gemm_cuda(const int32_t* qweight, const int32_t* qzeros, const __half* scales, int K,
                                     int N, int group, __half* out, cudaStream_t stream) {
    if (qweight == nullptr || qzeros == nullptr || scales == nullptr || out == nullptr)
        return cudaErrorInvalidValue;
    if (K <= 0 || N <= 0 || group <= 0 || N % 8 != 0 || K % group != 0)
        return cudaErrorInvalidValue;
    const int64_t total = static_cast<int64_t>(K) * (N / 8);
    constexpr int kThreads = 256;
    const int64_t blocks_needed = (total + kThreads - 1) / kThreads;
    // Grid-stride loop: cap the grid, the kernel covers the rest.
    const int blocks = static_cast<int>(blocks_needed < 65535 * 8 ? blocks_needed : 65535 * 8);
    dequantize_gemm_kernel<<<blocks, kThreads, 0, stream>>>(qweight, qzeros, scales, K, N, group, out);
    return cudaGetLastError();
}

}  // namespace awq::kernels
