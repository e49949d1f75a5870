#pragma once
// How awq_gemm_gemv_forward_cuda (awq_gemm_gemv_cuda.h) splits K, in plain C++ (no CUDA
// headers), so that host code sizing its workspace (the CUDA decoder's plan, tested on the
// CPU) and the kernel agree by construction.

#include <cstddef>

namespace awq::kernels {

inline constexpr int kGemmGemvThreadsPerBlock = 128;  // packed columns per block
inline constexpr int kGemmGemvTargetThreads = 16384;  // split K until about this many threads run

// Slices of whole groups K is cut into: enough that N/8 columns x slices reach the target,
// at most one slice per group, at least one.
inline int gemm_gemv_slice_count(int K, int N, int group) {
    const int groups = K / group;
    const int columns = N / 8;
    int slices = columns > 0 ? (kGemmGemvTargetThreads + columns - 1) / columns : 1;
    if (slices > groups)
        slices = groups;
    return slices < 1 ? 1 : slices;
}

// Bytes of fp32 partial sums for M rows (0 when the sizes are invalid).
inline std::size_t gemm_gemv_workspace_bytes(int M, int K, int N, int group, int maxRows) {
    if (M < 1 || M > maxRows || K <= 0 || N <= 0 || group <= 0 || N % 8 != 0 || K % group != 0)
        return 0;
    return static_cast<std::size_t>(gemm_gemv_slice_count(K, N, group)) * static_cast<std::size_t>(M) *
           static_cast<std::size_t>(N) * sizeof(float);
}

}  // namespace awq::kernels
