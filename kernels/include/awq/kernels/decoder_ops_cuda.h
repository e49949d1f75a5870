#pragma once
// CUDA kernels of the decoder block around the linears (the CUDA decoder, awq/nn/cuda_decoder.h):
// embedding rows, RMSNorm with the residual add fused in, per-head q/k norms + RoPE + the
// KV-cache write, causal attention over the fp16 cache, the gated MLP activation, bias and
// logit soft-capping. fp16 activations, an fp32 residual stream, fp32 arithmetic inside.
//
// Every function enqueues its kernel(s) on `stream` and returns without synchronizing:
// cudaErrorInvalidValue (launching nothing) for sizes it cannot take, otherwise the launch
// status. Device pointers throughout. Includable from plain C++ (g++).

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace awq::kernels {

// out[r][:] = float(table[ids[r]][:]) * scale for rows r (ids already checked by the caller).
cudaError_t embed_rows_cuda(const int32_t* ids, int rows, const __half* table, int hidden, float scale, float* out,
                            cudaStream_t stream);

// out[r][:] = fp16(x[r * rowStride][:] · rsqrt(mean(x²) + eps) · w): x fp32 rows of n, w fp32 [n].
// rowStride 1 normalises consecutive rows; T picks each sequence's last position of [batch, T].
cudaError_t rms_norm_cuda(const float* x, int rows, int rowStride, int n, const float* w, float eps, __half* out,
                          cudaStream_t stream);

// The residual add between two norms, one row per block:
//   hidden[r] += deltaNorm ? rmsnorm(delta[r]) · deltaNorm : delta[r]    (delta may be null: no add)
//   out[r] = fp16(rmsnorm(hidden[r]) · nextNorm)                           (nextNorm null: out untouched)
cudaError_t residual_add_norm_cuda(float* hidden, const __half* delta, const float* deltaNorm, const float* nextNorm,
                                   int rows, int n, float eps, __half* out, cudaStream_t stream);

// y[r][j] += bias[j].
cudaError_t add_bias_cuda(__half* y, const __half* bias, int rows, int n, cudaStream_t stream);

// The attention geometry of one forward: `tokens` new positions per sequence starting at
// position `start`; qkv rows r = b * tokens + i hold [q heads | k heads | v heads] of headDim;
// the layer's cache holds keys and values [batch][kvHeads][maxSeqLen][headDim].
struct AttentionGeometry {
    int batch = 0, tokens = 0, heads = 0, kvHeads = 0, headDim = 0, maxSeqLen = 0, start = 0;
};

// Per-head RMSNorm of q and k where qNorm / kNorm ([headDim] fp32) are given, RoPE on q and k
// with cos/sin tables [maxSeqLen][headDim] ("rotate half" pairing), q written back into qkv,
// k and v written into the cache at their positions. headDim even and <= 256.
cudaError_t rope_cache_write_cuda(__half* qkv, const float* qNorm, const float* kNorm, float eps, const float* cos,
                                  const float* sin, __half* keys, __half* values, const AttentionGeometry& g,
                                  cudaStream_t stream);

// Causal attention of every new position over the cache (positions 0 .. its own, or the
// last `window` of them when window > 0), GQA by heads / kvHeads, scores times `scale`,
// soft-capped as cap · tanh(s / cap) when softcap > 0. out [rows][heads * headDim] fp16.
cudaError_t attention_cuda(const __half* qkv, const __half* keys, const __half* values, const AttentionGeometry& g,
                           float scale, float softcap, int window, __half* out, cudaStream_t stream);

// out[r][i] = act(gateUp[r][i]) · gateUp[r][n + i]: act SiLU, or GELU with the tanh
// approximation when geluTanh.
cudaError_t gated_activation_cuda(const __half* gateUp, int rows, int n, bool geluTanh, __half* out,
                                  cudaStream_t stream);

// x[i] = cap · tanh(x[i] / cap) over count floats.
cudaError_t softcap_cuda(float* x, std::size_t count, float cap, cudaStream_t stream);

}  // namespace awq::kernels
