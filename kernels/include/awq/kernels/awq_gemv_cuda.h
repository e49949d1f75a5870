#pragma once
// CUDA W4A16 product for the AutoAWQ GEMV packing (docs/awq-format.md §2.2), for decode (a few
// activation rows): y[m][n] = Σ_k x[m][k] · W[n][k], with W[n][k] the fp16 weight
// fp16((q[n][k] − z[n][k/g]) · s[n][k/g]) exactly as awq::kernels::dequantize_gemv gives it,
// products summed in fp32 and y rounded once to fp16. No bias (the caller adds it).
//
// Status: compiled by every build that has nvcc; checked against the CPU reference by
// tests/cuda/tst_cuda_gemv.cpp on a machine with a GPU (skipped elsewhere). A first,
// straightforward kernel (one warp per output channel, 32-bit weight loads); its speed is
// for a GPU session to measure (issue 6).
//
// Includable from plain C++ (g++): <cuda_fp16.h> and <cuda_runtime_api.h> are host-safe.

#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace awq::kernels {

// The most activation rows one call takes (AutoAWQ switches to its GEMM path above 8).
inline constexpr int kAwqGemvMaxRows = 8;

// Device pointers: x fp16 [M][K] (16-byte aligned), qweight int32 [N][K/8], qzeros int32
// [N][ZW], scales fp16 [N][ZW·8] with ZW = gemvZerosWidth(K, group), y fp16 [M][N].
// Enqueues one kernel on `stream` and returns without synchronizing. Returns
// cudaErrorInvalidValue (launching nothing) for a null pointer, M outside 1..8, K, N or
// group not positive, K % 8 != 0, K % group != 0, a group size the GEMV format does not
// have (32, 64 or >= 128), or x not 16-byte aligned; otherwise the launch status.
cudaError_t awq_gemv_forward_cuda(const __half* x, int M, const int32_t* qweight, const int32_t* qzeros,
                                  const __half* scales, int K, int N, int group, __half* y, cudaStream_t stream);

}  // namespace awq::kernels
