#pragma once
// CUDA dequantization of the AutoAWQ GEMM format (docs/awq-format.md §2.1) to fp16 [K][N],
// the layout AutoAWQ's awq_ext.dequantize_weights_cuda produces:
//   Wt[k][n] = fp16((q[k][n] - z[k/g][n]) * s[k/g][n])
// (the fp32 product is exact and rounded once to fp16, ties to even), bit-identical to
// awq::kernels::dequantize_gemm on the CPU, whose [N][K] output is the transpose.
//
// Includable from plain C++ (g++): <cuda_fp16.h> and <cuda_runtime_api.h> are host-safe.
// Link awq_kernels_cuda (it brings CUDA::cudart and the include paths).

#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace awq::kernels {

// Device pointers: qweight int32 [K][N/8], qzeros int32 [K/g][N/8], scales fp16 [K/g][N],
// out fp16 [K][N]. Enqueues one kernel on `stream` and returns without synchronizing.
// Returns cudaErrorInvalidValue (launching nothing) when a pointer is null, K, N or group
// is not positive, N % 8 != 0 or K % group != 0; otherwise the launch status
// (cudaGetLastError right after the launch).
cudaError_t awq_dequantize_gemm_cuda(const int32_t* qweight, const int32_t* qzeros, const __half* scales, int K,
                                     int N, int group, __half* out, cudaStream_t stream);

}  // namespace awq::kernels

namespace awq::kernels {

// The GEMV packing (docs/awq-format.md §2.2) to fp16 W[N][K] (the nn.Linear layout):
//   W[n][k] = fp16((q[n][k] - z[n][k/g]) * s[n][k/g])
// bit-identical to awq::kernels::dequantize_gemv on the CPU. Device pointers: qweight int32
// [N][K/8], qzeros int32 [N][ZW], scales fp16 [N][ZW*8] (ZW = gemvZerosWidth(K, group)),
// out fp16 [N][K]. Enqueues one kernel; returns cudaErrorInvalidValue (launching nothing) for
// a null pointer, non-positive sizes, K % 8 != 0, K % group != 0 or a group size the GEMV
// packing lacks (32, 64 or >= 128); otherwise the launch status.
cudaError_t awq_dequantize_gemv_cuda(const int32_t* qweight, const int32_t* qzeros, const __half* scales, int K,
                                     int N, int group, __half* out, cudaStream_t stream);

}  // namespace awq::kernels
