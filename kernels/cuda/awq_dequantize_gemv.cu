// CUDA dequantization of the AutoAWQ GEMV packing to fp16 [N][K] (see awq_dequantize_cuda.h).
#include "awq/kernels/awq_dequantize_cuda.h"

#include <cstddef>
#include <cstdint>

namespace awq::kernels {
namespace {

// One thread per packed word qweight[n][c]: writes out[n][8c .. 8c+7] (natural nibble order).
__global__ void dequantize_gemv_kernel(const int32_t* __restrict__ qweight, const int32_t* __restrict__ qzeros,
                                       const __half* __restrict__ scales, int K, int N, int group, int zerosWidth,
                                       __half* __restrict__ out) {
    const int64_t words = K / 8;
    const int64_t total = static_cast<int64_t>(N) * words;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    const bool vector_store = (reinterpret_cast<uintptr_t>(out) & 15u) == 0;
    for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        const int64_t n = idx / words;
        const int64_t c = idx - n * words;
        const uint32_t w = static_cast<uint32_t>(qweight[idx]);
        const int32_t* zrow = qzeros + n * zerosWidth;
        const __half* srow = scales + n * zerosWidth * 8;
        __align__(16) __half v[8];
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int64_t grp = (8 * c + i) / group;
            const uint32_t z = (static_cast<uint32_t>(zrow[grp / 8]) >> (4 * (grp % 8))) & 0xFu;
            const int d = static_cast<int>((w >> (4 * i)) & 0xFu) - static_cast<int>(z);
            v[i] = __float2half_rn(static_cast<float>(d) * __half2float(srow[grp]));
        }
        __half* dst = out + n * K + 8 * c;
        if (vector_store) {
            *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(v);
        } else {
#pragma unroll
            for (int i = 0; i < 8; ++i)
                dst[i] = v[i];
        }
    }
}

int zeros_width(int K, int group) {
    const int m = group >= 128 ? 1 : group == 64 ? 2 : group == 32 ? 4 : 0;
    if (m == 0)
        return 0;
    const int w0 = (K / group + 7) / 8;
    return (w0 + m - 1) / m * m;
}

}  // namespace

cudaError_t awq_dequantize_gemv_cuda(const int32_t* qweight, const int32_t* qzeros, const __half* scales, int K,
                                     int N, int group, __half* out, cudaStream_t stream) {
    if (qweight == nullptr || qzeros == nullptr || scales == nullptr || out == nullptr)
        return cudaErrorInvalidValue;
    if (K <= 0 || N <= 0 || group <= 0 || K % 8 != 0 || K % group != 0)
        return cudaErrorInvalidValue;
    const int zerosWidth = zeros_width(K, group);
    if (zerosWidth == 0)
        return cudaErrorInvalidValue;
    const int64_t total = static_cast<int64_t>(N) * (K / 8);
    constexpr int kThreads = 256;
    const int64_t blocks_needed = (total + kThreads - 1) / kThreads;
    const int blocks = static_cast<int>(blocks_needed < 65535 * 8 ? blocks_needed : 65535 * 8);
    dequantize_gemv_kernel<<<blocks, kThreads, 0, stream>>>(qweight, qzeros, scales, K, N, group, zerosWidth, out);
    return cudaGetLastError();
}

}  // namespace awq::kernels
