#pragma once
// One linear of the CUDA decoder on its device: an fp16 weight for cuBLAS, or the packed
// int4 tensors of a checkpoint exactly as stored (GEMM or GEMV packing), run by the kernel
// the plan picks for the number of rows (awq/cuda/decoder_plan.h).

#include <string>

#include <cuda_fp16.h>

#include "awq/cuda/decoder_plan.h"
#include "cuda_check.h"

namespace awq {
class Linear;
}

namespace awq::cuda {

// What every linear of one forward shares: the stream, the cuBLAS handle bound to it, and
// one workspace (split-K partials or a dequantized weight), large enough for the plan.
struct LinearContext {
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    void *workspace = nullptr;
    std::size_t workspaceBytes = 0;
};

// y[M][N] = x[M][K] · W[N][K]ᵀ in fp16 with fp32 accumulation (cuBLAS, column-major view).
// weightTransposed: W is held as Wᵀ [K][N] (a dequantized GEMM packing).
void gemmHalf(const LinearContext &ctx, const __half *x, int64_t rows, const __half *w, bool weightTransposed,
              int64_t in, int64_t out, void *y, bool floatOutput);

class CudaLinear
{
public:
    // Uploads a DenseLinear (converted to fp16) or a QuantLinear (as stored). `name` appears
    // in errors. Throws Error(UnsupportedModel) for other kinds and for shapes the kernels
    // cannot take (checkLinear).
    CudaLinear(const Linear &linear, const std::string &name);

    const LinearSpec &spec() const { return m_spec; }
    uint64_t deviceBytes() const;
    std::string describe() const; // "int4 gemm g128 [2048 -> 2560]"

    // y [rows][out] = x [rows][in] · Wᵀ (+ bias); x 16-byte aligned, rows >= 1.
    void forward(const LinearContext &ctx, const __half *x, int64_t rows, __half *y) const;

private:
    LinearSpec m_spec;
    std::string m_name;
    DeviceBuffer m_weight;                     // fp16 [out][in]
    DeviceBuffer m_qweight, m_qzeros, m_scales; // int4 packing as stored
    DeviceBuffer m_bias;                       // fp16 [out]
};

} // namespace awq::cuda
