// CUDA W4A16 GEMV for the AutoAWQ GEMV packing (see awq_gemv_cuda.h).
#include "awq/kernels/awq_gemv_cuda.h"

#include <cstddef>
#include <cstdint>

namespace awq::kernels {
namespace {

constexpr int kWarpsPerBlock = 4; // one output channel per warp

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

// The fp16 weight of code q with zero point z and scale s, as dequantize_gemv rounds it.
__device__ __forceinline__ float weight(uint32_t q, uint32_t z, float s) {
    return __half2float(__float2half_rn(static_cast<float>(static_cast<int>(q) - static_cast<int>(z)) * s));
}

// Warp w of the block computes output channel n for all M rows. Lane l walks the packed
// words l, l + 32, ... of row n (8 weights each, with the 8 matching activations of each
// row read as one 16-byte load). kWordInGroup: every word lies in one group (group % 8 == 0,
// always the case for 32, 64 and multiples of 8), so scale and zero are read once per word.
template <int M, bool kWordInGroup>
__global__ void gemv_kernel(const __half* __restrict__ x, const int32_t* __restrict__ qweight,
                            const int32_t* __restrict__ qzeros, const __half* __restrict__ scales, int K, int N,
                            int group, int zerosWidth, __half* __restrict__ y) {
    const int n = blockIdx.x * kWarpsPerBlock + static_cast<int>(threadIdx.x / 32);
    const int lane = static_cast<int>(threadIdx.x % 32);
    if (n >= N)
        return;
    const int words = K / 8;
    const int32_t* qrow = qweight + static_cast<std::size_t>(n) * words;
    const int32_t* zrow = qzeros + static_cast<std::size_t>(n) * zerosWidth;
    const __half* srow = scales + static_cast<std::size_t>(n) * zerosWidth * 8;
    float acc[M];
#pragma unroll
    for (int m = 0; m < M; ++m)
        acc[m] = 0.0f;
    for (int w = lane; w < words; w += 32) {
        const uint32_t packed = static_cast<uint32_t>(qrow[w]);
        float wv[8];
        if (kWordInGroup) {
            const int grp = (8 * w) / group;
            const uint32_t z = (static_cast<uint32_t>(zrow[grp / 8]) >> (4 * (grp % 8))) & 0xFu;
            const float s = __half2float(srow[grp]);
#pragma unroll
            for (int i = 0; i < 8; ++i)
                wv[i] = weight((packed >> (4 * i)) & 0xFu, z, s);
        } else {
#pragma unroll
            for (int i = 0; i < 8; ++i) {
                const int grp = (8 * w + i) / group;
                const uint32_t z = (static_cast<uint32_t>(zrow[grp / 8]) >> (4 * (grp % 8))) & 0xFu;
                wv[i] = weight((packed >> (4 * i)) & 0xFu, z, __half2float(srow[grp]));
            }
        }
#pragma unroll
        for (int m = 0; m < M; ++m) {
            const uint4 raw = *reinterpret_cast<const uint4*>(x + static_cast<std::size_t>(m) * K + 8 * w);
            const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                const float2 f = __half22float2(h[i]);
                acc[m] = fmaf(f.x, wv[2 * i], acc[m]);
                acc[m] = fmaf(f.y, wv[2 * i + 1], acc[m]);
            }
        }
    }
#pragma unroll
    for (int m = 0; m < M; ++m) {
        const float total = warp_sum(acc[m]);
        if (lane == 0)
            y[static_cast<std::size_t>(m) * N + n] = __float2half_rn(total);
    }
}

template <int M>
void launch(bool wordInGroup, dim3 grid, dim3 block, cudaStream_t stream, const __half* x, const int32_t* qweight,
            const int32_t* qzeros, const __half* scales, int K, int N, int group, int zerosWidth, __half* y) {
    if (wordInGroup)
        gemv_kernel<M, true><<<grid, block, 0, stream>>>(x, qweight, qzeros, scales, K, N, group, zerosWidth, y);
    else
        gemv_kernel<M, false><<<grid, block, 0, stream>>>(x, qweight, qzeros, scales, K, N, group, zerosWidth, y);
}

// gemvZerosWidth (awq_format.h) without its exceptions: 0 for a group size GEMV lacks.
int zeros_width(int K, int group) {
    const int m = group >= 128 ? 1 : group == 64 ? 2 : group == 32 ? 4 : 0;
    if (m == 0)
        return 0;
    const int w0 = (K / group + 7) / 8;
    return (w0 + m - 1) / m * m;
}

}  // namespace

cudaError_t awq_gemv_forward_cuda(const __half* x, int M, const int32_t* qweight, const int32_t* qzeros,
                                  const __half* scales, int K, int N, int group, __half* y, cudaStream_t stream) {
    if (x == nullptr || qweight == nullptr || qzeros == nullptr || scales == nullptr || y == nullptr)
        return cudaErrorInvalidValue;
    if (M < 1 || M > kAwqGemvMaxRows || K <= 0 || N <= 0 || group <= 0 || K % 8 != 0 || K % group != 0)
        return cudaErrorInvalidValue;
    if ((reinterpret_cast<uintptr_t>(x) & 15u) != 0)
        return cudaErrorInvalidValue;
    const int zerosWidth = zeros_width(K, group);
    if (zerosWidth == 0)
        return cudaErrorInvalidValue;
    const bool wordInGroup = group % 8 == 0;
    const dim3 grid((N + kWarpsPerBlock - 1) / kWarpsPerBlock), block(32 * kWarpsPerBlock);
    switch (M) {
    case 1: launch<1>(wordInGroup, grid, block, stream, x, qweight, qzeros, scales, K, N, group, zerosWidth, y); break;
    case 2: launch<2>(wordInGroup, grid, block, stream, x, qweight, qzeros, scales, K, N, group, zerosWidth, y); break;
    case 3: launch<3>(wordInGroup, grid, block, stream, x, qweight, qzeros, scales, K, N, group, zerosWidth, y); break;
    case 4: launch<4>(wordInGroup, grid, block, stream, x, qweight, qzeros, scales, K, N, group, zerosWidth, y); break;
    case 5: launch<5>(wordInGroup, grid, block, stream, x, qweight, qzeros, scales, K, N, group, zerosWidth, y); break;
    case 6: launch<6>(wordInGroup, grid, block, stream, x, qweight, qzeros, scales, K, N, group, zerosWidth, y); break;
    case 7: launch<7>(wordInGroup, grid, block, stream, x, qweight, qzeros, scales, K, N, group, zerosWidth, y); break;
    default: launch<8>(wordInGroup, grid, block, stream, x, qweight, qzeros, scales, K, N, group, zerosWidth, y); break;
    }
    return cudaGetLastError();
}

}  // namespace awq::kernels
