// CUDA W4A16 decode product for the AutoAWQ GEMM packing (see awq_gemm_gemv_cuda.h).
#include "awq/kernels/awq_gemm_gemv_cuda.h"
#include "awq/kernels/awq_gemm_gemv_split.h"

namespace awq::kernels {
namespace {

constexpr int kThreads = kGemmGemvThreadsPerBlock; // packed columns per block (1024 output channels)

// Nibble holding output channel 8j + t (AWQ_REVERSE_ORDER): channel t sits at bits 4 * REV[t].
__device__ __forceinline__ int reverse_order(int t) {
    return (t >> 1) + ((t & 1) << 2);
}

// How many slices K is split into (awq_gemm_gemv_split.h, shared with host-side planning).
int slice_count(int K, int N, int group) {
    return gemm_gemv_slice_count(K, N, group);
}

// Thread (blockIdx.x, threadIdx.x) owns packed column j; blockIdx.y is the slice of groups
// [g0, g1). partial[slice][m][n] = Σ over the slice's rows of x[m][k] · W[k][n].
template <int M>
__global__ void partial_kernel(const __half* __restrict__ x, const int32_t* __restrict__ qweight,
                               const int32_t* __restrict__ qzeros, const __half* __restrict__ scales, int K, int N,
                               int group, int slices, float* __restrict__ partial) {
    const int columns = N / 8;
    const int j = blockIdx.x * kThreads + static_cast<int>(threadIdx.x);
    if (j >= columns)
        return;
    const int groups = K / group;
    const int slice = blockIdx.y;
    const int g0 = static_cast<int>(static_cast<long long>(groups) * slice / slices);
    const int g1 = static_cast<int>(static_cast<long long>(groups) * (slice + 1) / slices);
    float acc[M][8];
#pragma unroll
    for (int m = 0; m < M; ++m)
#pragma unroll
        for (int t = 0; t < 8; ++t)
            acc[m][t] = 0.0f;
    for (int grp = g0; grp < g1; ++grp) {
        const uint32_t z = static_cast<uint32_t>(qzeros[static_cast<std::size_t>(grp) * columns + j]);
        const __half* srow = scales + static_cast<std::size_t>(grp) * N + 8 * j;
        float s[8];
        int zero[8];
#pragma unroll
        for (int t = 0; t < 8; ++t) {
            s[t] = __half2float(srow[t]);
            zero[t] = static_cast<int>((z >> (4 * reverse_order(t))) & 0xFu);
        }
        const int k1 = (grp + 1) * group;
        for (int k = grp * group; k < k1; ++k) {
            const uint32_t w = static_cast<uint32_t>(qweight[static_cast<std::size_t>(k) * columns + j]);
            float wv[8];
#pragma unroll
            for (int t = 0; t < 8; ++t) {
                const int q = static_cast<int>((w >> (4 * reverse_order(t))) & 0xFu);
                wv[t] = __half2float(__float2half_rn(static_cast<float>(q - zero[t]) * s[t]));
            }
#pragma unroll
            for (int m = 0; m < M; ++m) {
                const float xv = __half2float(x[static_cast<std::size_t>(m) * K + k]); // the same for every thread
#pragma unroll
                for (int t = 0; t < 8; ++t)
                    acc[m][t] = fmaf(xv, wv[t], acc[m][t]);
            }
        }
    }
#pragma unroll
    for (int m = 0; m < M; ++m) {
        float* out = partial + (static_cast<std::size_t>(slice) * M + m) * N + 8 * j;
#pragma unroll
        for (int t = 0; t < 8; ++t)
            out[t] = acc[m][t];
    }
}

// y[m][n] = fp16(Σ_slice partial[slice][m][n]), slices added in order.
__global__ void reduce_kernel(const float* __restrict__ partial, int slices, int MN, __half* __restrict__ y) {
    const int i = blockIdx.x * blockDim.x + static_cast<int>(threadIdx.x);
    if (i >= MN)
        return;
    float total = 0.0f;
    for (int s = 0; s < slices; ++s)
        total += partial[static_cast<std::size_t>(s) * MN + i];
    y[i] = __float2half_rn(total);
}

template <int M>
void launch_partial(dim3 grid, cudaStream_t stream, const __half* x, const int32_t* qweight, const int32_t* qzeros,
                    const __half* scales, int K, int N, int group, int slices, float* partial) {
    partial_kernel<M><<<grid, kThreads, 0, stream>>>(x, qweight, qzeros, scales, K, N, group, slices, partial);
}

bool valid_sizes(int M, int K, int N, int group) {
    return M >= 1 && M <= kAwqGemmGemvMaxRows && K > 0 && N > 0 && group > 0 && N % 8 == 0 && K % group == 0;
}

}  // namespace

std::size_t awq_gemm_gemv_workspace_bytes(int M, int K, int N, int group) {
    return gemm_gemv_workspace_bytes(M, K, N, group, kAwqGemmGemvMaxRows);
}

cudaError_t awq_gemm_gemv_forward_cuda(const __half* x, int M, const int32_t* qweight, const int32_t* qzeros,
                                       const __half* scales, int K, int N, int group, __half* y, void* workspace,
                                       std::size_t workspaceBytes, cudaStream_t stream) {
    if (x == nullptr || qweight == nullptr || qzeros == nullptr || scales == nullptr || y == nullptr ||
        workspace == nullptr || !valid_sizes(M, K, N, group))
        return cudaErrorInvalidValue;
    if (workspaceBytes < awq_gemm_gemv_workspace_bytes(M, K, N, group) ||
        (reinterpret_cast<uintptr_t>(workspace) & 3u) != 0)
        return cudaErrorInvalidValue;
    const int slices = slice_count(K, N, group);
    float* partial = static_cast<float*>(workspace);
    const dim3 grid((N / 8 + kThreads - 1) / kThreads, slices);
    switch (M) {
    case 1: launch_partial<1>(grid, stream, x, qweight, qzeros, scales, K, N, group, slices, partial); break;
    case 2: launch_partial<2>(grid, stream, x, qweight, qzeros, scales, K, N, group, slices, partial); break;
    case 3: launch_partial<3>(grid, stream, x, qweight, qzeros, scales, K, N, group, slices, partial); break;
    case 4: launch_partial<4>(grid, stream, x, qweight, qzeros, scales, K, N, group, slices, partial); break;
    case 5: launch_partial<5>(grid, stream, x, qweight, qzeros, scales, K, N, group, slices, partial); break;
    case 6: launch_partial<6>(grid, stream, x, qweight, qzeros, scales, K, N, group, slices, partial); break;
    case 7: launch_partial<7>(grid, stream, x, qweight, qzeros, scales, K, N, group, slices, partial); break;
    default: launch_partial<8>(grid, stream, x, qweight, qzeros, scales, K, N, group, slices, partial); break;
    }
    const cudaError_t launched = cudaGetLastError();
    if (launched != cudaSuccess)
        return launched;
    const int MN = M * N;
    reduce_kernel<<<(MN + 255) / 256, 256, 0, stream>>>(partial, slices, MN, y);
    return cudaGetLastError();
}

}  // namespace awq::kernels
