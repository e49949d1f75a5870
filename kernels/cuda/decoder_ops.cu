// CUDA kernels of the decoder block around the linears (see decoder_ops_cuda.h).
#include "awq/kernels/decoder_ops_cuda.h"

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace awq::kernels {
namespace {

constexpr int kNormThreads = 256;
constexpr int kMaxHeadDim = 256;
constexpr int kPerLane = kMaxHeadDim / 32;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// Sum of v over the block (kNormThreads threads); every thread gets the total.
__device__ float block_sum(float v, float* shared /* [32] */) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = warp_sum(v);
    if (lane == 0)
        shared[warp] = v;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < kNormThreads / 32; ++w)
        total += shared[w];
    __syncthreads();
    return total;
}

__global__ void embed_kernel(const int32_t* __restrict__ ids, const __half* __restrict__ table, int hidden,
                             float scale, float* __restrict__ out) {
    const int r = blockIdx.x;
    const __half* src = table + static_cast<std::size_t>(ids[r]) * hidden;
    float* dst = out + static_cast<std::size_t>(r) * hidden;
    for (int j = threadIdx.x; j < hidden; j += blockDim.x)
        dst[j] = __half2float(src[j]) * scale;
}

__global__ void rms_norm_kernel(const float* __restrict__ x, int rowStride, int n, const float* __restrict__ w,
                                float eps, __half* __restrict__ out) {
    __shared__ float shared[32];
    const float* row = x + static_cast<std::size_t>(blockIdx.x) * rowStride * n;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x)
        ss += row[j] * row[j];
    const float r = rsqrtf(block_sum(ss, shared) / static_cast<float>(n) + eps);
    __half* o = out + static_cast<std::size_t>(blockIdx.x) * n;
    for (int j = threadIdx.x; j < n; j += blockDim.x)
        o[j] = __float2half_rn(row[j] * r * w[j]);
}

__global__ void residual_add_norm_kernel(float* __restrict__ hidden, const __half* __restrict__ delta,
                                         const float* __restrict__ deltaNorm, const float* __restrict__ nextNorm,
                                         int n, float eps, __half* __restrict__ out) {
    __shared__ float shared[32];
    const std::size_t base = static_cast<std::size_t>(blockIdx.x) * n;
    float* h = hidden + base;
    if (delta != nullptr) {
        const __half* d = delta + base;
        float r = 1.0f;
        if (deltaNorm != nullptr) {
            float ss = 0.0f;
            for (int j = threadIdx.x; j < n; j += blockDim.x) {
                const float v = __half2float(d[j]);
                ss += v * v;
            }
            r = rsqrtf(block_sum(ss, shared) / static_cast<float>(n) + eps);
        }
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            const float v = __half2float(d[j]) * r;
            h[j] += deltaNorm != nullptr ? v * deltaNorm[j] : v;
        }
    }
    if (nextNorm == nullptr)
        return;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) // each thread reads back what it wrote
        ss += h[j] * h[j];
    const float r = rsqrtf(block_sum(ss, shared) / static_cast<float>(n) + eps);
    __half* o = out + base;
    for (int j = threadIdx.x; j < n; j += blockDim.x)
        o[j] = __float2half_rn(h[j] * r * nextNorm[j]);
}

__global__ void add_bias_kernel(__half* __restrict__ y, const __half* __restrict__ bias, int rows, int n) {
    const std::size_t total = static_cast<std::size_t>(rows) * n;
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
        y[i] = __float2half_rn(__half2float(y[i]) + __half2float(bias[i % n]));
}

// One warp per (row, head) of q, k and v heads.
__global__ void rope_cache_kernel(__half* __restrict__ qkv, const float* __restrict__ qNorm,
                                  const float* __restrict__ kNorm, float eps, const float* __restrict__ cosTable,
                                  const float* __restrict__ sinTable, __half* __restrict__ keys,
                                  __half* __restrict__ values, AttentionGeometry g) {
    const int heads = g.heads + 2 * g.kvHeads;
    const long long warpId = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    const long long rows = static_cast<long long>(g.batch) * g.tokens;
    if (warpId >= rows * heads)
        return;
    const int r = static_cast<int>(warpId / heads), head = static_cast<int>(warpId % heads);
    const int b = r / g.tokens, pos = g.start + r % g.tokens;
    const int D = g.headDim, half = D / 2;
    __half* x = qkv + static_cast<std::size_t>(r) * heads * D + static_cast<std::size_t>(head) * D;
    const bool isQ = head < g.heads, isK = !isQ && head < g.heads + g.kvHeads;
    const int kvHead = isQ ? 0 : isK ? head - g.heads : head - g.heads - g.kvHeads;
    const std::size_t cacheOffset =
        ((static_cast<std::size_t>(b) * g.kvHeads + kvHead) * g.maxSeqLen + pos) * static_cast<std::size_t>(D);
    if (!isQ && !isK) { // v: copied into the cache
        for (int d = lane; d < D; d += 32)
            values[cacheOffset + d] = x[d];
        return;
    }
    const float* norm = isQ ? qNorm : kNorm;
    float r2 = 1.0f;
    if (norm != nullptr) {
        float ss = 0.0f;
        for (int d = lane; d < D; d += 32) {
            const float v = __half2float(x[d]);
            ss += v * v;
        }
        r2 = rsqrtf(warp_sum(ss) / static_cast<float>(D) + eps);
    }
    const float* cosRow = cosTable + static_cast<std::size_t>(pos) * D;
    const float* sinRow = sinTable + static_cast<std::size_t>(pos) * D;
    __half* dst = isQ ? x : keys + cacheOffset;
    for (int i = lane; i < half; i += 32) {
        float a = __half2float(x[i]) * r2, c = __half2float(x[i + half]) * r2;
        if (norm != nullptr) {
            a = __half2float(__float2half_rn(a * norm[i]));
            c = __half2float(__float2half_rn(c * norm[i + half]));
        }
        const float lo = a * cosRow[i] - c * sinRow[i];
        const float hi = c * cosRow[i + half] + a * sinRow[i + half];
        dst[i] = __float2half_rn(lo);
        dst[i + half] = __float2half_rn(hi);
    }
}

// One block per (sequence, head, new position); its WARPS warps take every WARPS-th key with
// an online softmax each, then combine. Lane l holds dimensions l, l + 32, ...
template <int WARPS>
__global__ void attention_kernel(const __half* __restrict__ qkv, const __half* __restrict__ keys,
                                 const __half* __restrict__ values, AttentionGeometry g, float scale, float softcap,
                                 int window, __half* __restrict__ out) {
    __shared__ float sMax[WARPS], sSum[WARPS];
    __shared__ float sAcc[WARPS][kMaxHeadDim];
    const int bh = blockIdx.x, i = blockIdx.y;
    const int b = bh / g.heads, h = bh % g.heads;
    const int kvHead = h / (g.heads / g.kvHeads);
    const int D = g.headDim;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int row = b * g.tokens + i;
    const int S = g.start + i + 1;
    const int first = window > 0 && S > window ? S - window : 0;
    const __half* q = qkv + static_cast<std::size_t>(row) * (g.heads + 2 * g.kvHeads) * D + static_cast<std::size_t>(h) * D;
    const std::size_t cacheBase = (static_cast<std::size_t>(b) * g.kvHeads + kvHead) * g.maxSeqLen * D;
    const __half* K = keys + cacheBase;
    const __half* V = values + cacheBase;

    float qv[kPerLane], acc[kPerLane];
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
        const int d = lane + 32 * j;
        qv[j] = d < D ? __half2float(q[d]) * scale : 0.0f;
        acc[j] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int s = first + warp; s < S; s += WARPS) {
        const __half* k = K + static_cast<std::size_t>(s) * D;
        float dot = 0.0f;
#pragma unroll
        for (int j = 0; j < kPerLane; ++j) {
            const int d = lane + 32 * j;
            if (d < D)
                dot = fmaf(qv[j], __half2float(k[d]), dot);
        }
        dot = warp_sum(dot);
        if (softcap > 0.0f)
            dot = softcap * tanhf(dot / softcap);
        const float mNew = fmaxf(m, dot);
        const float correction = expf(m - mNew);
        const float p = expf(dot - mNew);
        l = l * correction + p;
        const __half* v = V + static_cast<std::size_t>(s) * D;
#pragma unroll
        for (int j = 0; j < kPerLane; ++j) {
            const int d = lane + 32 * j;
            acc[j] = acc[j] * correction + (d < D ? p * __half2float(v[d]) : 0.0f);
        }
        m = mNew;
    }
    if (lane == 0) {
        sMax[warp] = m;
        sSum[warp] = l;
    }
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < D)
            sAcc[warp][d] = acc[j];
    }
    __syncthreads();
    float mAll = -INFINITY;
    for (int w = 0; w < WARPS; ++w)
        mAll = fmaxf(mAll, sMax[w]);
    float total = 0.0f;
    for (int w = 0; w < WARPS; ++w)
        total += sMax[w] == -INFINITY ? 0.0f : sSum[w] * expf(sMax[w] - mAll);
    __half* o = out + static_cast<std::size_t>(row) * g.heads * D + static_cast<std::size_t>(h) * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float v = 0.0f;
        for (int w = 0; w < WARPS; ++w)
            if (sMax[w] != -INFINITY)
                v += sAcc[w][d] * expf(sMax[w] - mAll);
        o[d] = __float2half_rn(v / total);
    }
}

__global__ void gated_activation_kernel(const __half* __restrict__ gateUp, int rows, int n, bool geluTanh,
                                        __half* __restrict__ out) {
    const std::size_t total = static_cast<std::size_t>(rows) * n;
    for (std::size_t idx = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
         idx += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        const std::size_t r = idx / n, i = idx % n;
        const float x = __half2float(gateUp[r * 2 * n + i]);
        const float up = __half2float(gateUp[r * 2 * n + n + i]);
        float a;
        if (geluTanh) {
            const float kAlpha = 0.7978845608028654f; // sqrt(2 / pi)
            a = 0.5f * x * (1.0f + tanhf(kAlpha * (x + 0.044715f * x * x * x)));
        } else {
            a = x / (1.0f + expf(-x));
        }
        out[idx] = __float2half_rn(a * up);
    }
}

__global__ void softcap_kernel(float* __restrict__ x, std::size_t count, float cap) {
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
        x[i] = cap * tanhf(x[i] / cap);
}

int grid_for(std::size_t total, int threads) {
    const std::size_t blocks = (total + threads - 1) / threads;
    return static_cast<int>(blocks < 65535u * 16u ? blocks : 65535u * 16u);
}

}  // namespace

cudaError_t embed_rows_cuda(const int32_t* ids, int rows, const __half* table, int hidden, float scale, float* out,
                            cudaStream_t stream) {
    if (ids == nullptr || table == nullptr || out == nullptr || rows < 1 || hidden < 1)
        return cudaErrorInvalidValue;
    embed_kernel<<<rows, 256, 0, stream>>>(ids, table, hidden, scale, out);
    return cudaGetLastError();
}

cudaError_t rms_norm_cuda(const float* x, int rows, int rowStride, int n, const float* w, float eps, __half* out,
                          cudaStream_t stream) {
    if (x == nullptr || w == nullptr || out == nullptr || rows < 1 || rowStride < 1 || n < 1)
        return cudaErrorInvalidValue;
    rms_norm_kernel<<<rows, kNormThreads, 0, stream>>>(x, rowStride, n, w, eps, out);
    return cudaGetLastError();
}

cudaError_t residual_add_norm_cuda(float* hidden, const __half* delta, const float* deltaNorm, const float* nextNorm,
                                   int rows, int n, float eps, __half* out, cudaStream_t stream) {
    if (hidden == nullptr || (nextNorm != nullptr && out == nullptr) || rows < 1 || n < 1)
        return cudaErrorInvalidValue;
    residual_add_norm_kernel<<<rows, kNormThreads, 0, stream>>>(hidden, delta, deltaNorm, nextNorm, n, eps, out);
    return cudaGetLastError();
}

cudaError_t add_bias_cuda(__half* y, const __half* bias, int rows, int n, cudaStream_t stream) {
    if (y == nullptr || bias == nullptr || rows < 1 || n < 1)
        return cudaErrorInvalidValue;
    add_bias_kernel<<<grid_for(static_cast<std::size_t>(rows) * n, 256), 256, 0, stream>>>(y, bias, rows, n);
    return cudaGetLastError();
}

namespace {
bool valid_geometry(const AttentionGeometry& g) {
    return g.batch >= 1 && g.tokens >= 1 && g.heads >= 1 && g.kvHeads >= 1 && g.heads % g.kvHeads == 0 &&
           g.headDim >= 2 && g.headDim % 2 == 0 && g.headDim <= kMaxHeadDim && g.start >= 0 &&
           g.start + g.tokens <= g.maxSeqLen;
}
}  // namespace

cudaError_t rope_cache_write_cuda(__half* qkv, const float* qNorm, const float* kNorm, float eps, const float* cos,
                                  const float* sin, __half* keys, __half* values, const AttentionGeometry& g,
                                  cudaStream_t stream) {
    if (qkv == nullptr || cos == nullptr || sin == nullptr || keys == nullptr || values == nullptr ||
        !valid_geometry(g))
        return cudaErrorInvalidValue;
    const std::size_t warps = static_cast<std::size_t>(g.batch) * g.tokens * (g.heads + 2 * g.kvHeads);
    constexpr int kThreads = 128;
    const std::size_t blocks = (warps * 32 + kThreads - 1) / kThreads;
    if (blocks > 0x7fffffffu)
        return cudaErrorInvalidValue;
    rope_cache_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(qkv, qNorm, kNorm, eps, cos, sin, keys,
                                                                              values, g);
    return cudaGetLastError();
}

cudaError_t attention_cuda(const __half* qkv, const __half* keys, const __half* values, const AttentionGeometry& g,
                           float scale, float softcap, int window, __half* out, cudaStream_t stream) {
    if (qkv == nullptr || keys == nullptr || values == nullptr || out == nullptr || !valid_geometry(g) ||
        g.tokens > 65535 || window < 0)
        return cudaErrorInvalidValue;
    const dim3 grid(static_cast<unsigned>(g.batch * g.heads), static_cast<unsigned>(g.tokens));
    // Decode: few blocks, long key ranges — more warps per block; prefill: many blocks.
    if (g.tokens == 1)
        attention_kernel<16><<<grid, 16 * 32, 0, stream>>>(qkv, keys, values, g, scale, softcap, window, out);
    else
        attention_kernel<4><<<grid, 4 * 32, 0, stream>>>(qkv, keys, values, g, scale, softcap, window, out);
    return cudaGetLastError();
}

cudaError_t gated_activation_cuda(const __half* gateUp, int rows, int n, bool geluTanh, __half* out,
                                  cudaStream_t stream) {
    if (gateUp == nullptr || out == nullptr || rows < 1 || n < 1)
        return cudaErrorInvalidValue;
    gated_activation_kernel<<<grid_for(static_cast<std::size_t>(rows) * n, 256), 256, 0, stream>>>(gateUp, rows, n,
                                                                                                 geluTanh, out);
    return cudaGetLastError();
}

cudaError_t softcap_cuda(float* x, std::size_t count, float cap, cudaStream_t stream) {
    if (x == nullptr || count == 0 || !(cap > 0.0f))
        return cudaErrorInvalidValue;
    softcap_kernel<<<grid_for(count, 256), 256, 0, stream>>>(x, count, cap);
    return cudaGetLastError();
}

}  // namespace awq::kernels
