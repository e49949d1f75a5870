#pragma once
// CUDA W4A16 product for the AutoAWQ GEMM packing (docs/awq-format.md §2.1) at decode sizes (1 to
// 8 activation rows): y[m][n] = Σ_k x[m][k] · W[k][n], with W the fp16 weight
// fp16((q − z) · s) exactly as awq_dequantize_gemm_cuda writes it, products summed in fp32
// and y rounded once to fp16. No bias. The GEMM packing is what vLLM and transformers load,
// so this is the decode kernel most checkpoints need; AutoAWQ's own gemm_forward_cuda
// serves the same purpose.
//
// How it works: each thread owns one packed column (8 output channels) and walks a slice
// of K (split-K, so that a 4096-wide layer still gives the GPU thousands of threads);
// consecutive threads read consecutive words of a qweight row (coalesced). Each slice
// writes fp32 partial sums into `workspace`; a second kernel adds the slices in a fixed
// order (deterministic) and rounds to fp16.
//
// Status: compiled by every build that has nvcc; checked against the CPU reference by
// tests/cuda/tst_cuda_gemm_gemv.cpp on a machine with a GPU (skipped elsewhere). Its speed
// is for a GPU session to measure (issue 6).

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace awq::kernels {

inline constexpr int kAwqGemmGemvMaxRows = 8;

// Bytes of device workspace awq_gemm_gemv_forward_cuda needs for these sizes (0 when they
// are invalid).
std::size_t awq_gemm_gemv_workspace_bytes(int M, int K, int N, int group);

// Device pointers: x fp16 [M][K], qweight int32 [K][N/8], qzeros int32 [K/group][N/8],
// scales fp16 [K/group][N], y fp16 [M][N], workspace of at least
// awq_gemm_gemv_workspace_bytes(M, K, N, group) bytes (4-byte aligned). Enqueues two
// kernels on `stream` and returns without synchronizing. Returns cudaErrorInvalidValue
// (launching nothing) for a null pointer, M outside 1..8, K, N or group not positive,
// N % 8 != 0, K % group != 0 or a workspace smaller than needed; otherwise the launch status.
cudaError_t awq_gemm_gemv_forward_cuda(const __half* x, int M, const int32_t* qweight, const int32_t* qzeros,
                                       const __half* scales, int K, int N, int group, __half* y, void* workspace,
                                       std::size_t workspaceBytes, cudaStream_t stream);

}  // namespace awq::kernels
