#pragma once
// QuantLinear: a 4-bit AWQ linear that runs on the packed tensors with the CPU int4
// kernels (kernels/w4_linear.h). Few rows (decode, short prompts) go through the GEMV-style kernel;
// many rows (prefill) dequantize panels of output channels into a small buffer that
// BLAS multiplies. Either packing (GEMM or GEMV) works with either kernel.
//
// Not thread-safe: a model is used by one thread at a time (its workspace is reused
// between calls so that decoding allocates nothing).

#include <cstdint>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/kernels/w4_linear.h"
#include "awq/nn/linear.h"

namespace awq {

class QuantLinear final : public Linear
{
public:
    // qweight/qzeros int32 and scales fp16, CPU, contiguous, shaped for `packing`
    // (docs/awq-format.md §2; they may be views over memory-mapped files, which they keep alive).
    // bias: float32 [outFeatures] or undefined. Throws Error(Format) on a shape/dtype
    // mismatch or an unsupported geometry.
    QuantLinear(kernels::W4Packing packing, int64_t inFeatures, int64_t outFeatures, int64_t groupSize,
                at::Tensor qweight, at::Tensor qzeros, at::Tensor scales, at::Tensor bias = {});

    at::Tensor forward(const at::Tensor &x) const override; // float32 in and out
    void forwardInto(const at::Tensor &x, at::Tensor &y) const override;
    int64_t inFeatures() const override { return m_matrix.K; }
    int64_t outFeatures() const override { return m_matrix.N; }
    std::string describe() const override; // "int4 gemv g128 [2048 -> 5632]"
    uint64_t weightBytes() const override;

    kernels::W4Packing packing() const { return m_matrix.packing; }
    int64_t groupSize() const { return m_matrix.group; }
    const kernels::W4Matrix &matrix() const { return m_matrix; }
    const at::Tensor &qweight() const { return m_qweight; }
    const at::Tensor &qzeros() const { return m_qzeros; }
    const at::Tensor &scales() const { return m_scales; }
    const at::Tensor &bias() const { return m_bias; }

    // The exact dequantized weight [out, in] float32 (for tests and the reference path).
    at::Tensor dequantized() const;

    // Rows up to gemvRowLimit() use the GEMV-style kernel, more rows the dequantize+BLAS
    // path. The limit is chosen per linear (16 for the VNNI kernel, else 8) unless forced
    // process-wide with setGemvMaxRows(rows >= 0); -1 (the default) restores the choice.
    // The benchmark forces it to time both paths.
    int64_t gemvRowLimit() const;
    static int64_t gemvMaxRows(); // the forced limit, or -1
    static void setGemvMaxRows(int64_t rows);
    // The instruction set the kernels use (the best available unless capped by AWQ_CPU_ISA).
    static kernels::CpuIsa isa();
    static void setIsa(kernels::CpuIsa isa); // must be supported (tests compare the paths)
    // Rows past gemvRowLimit() on the AVX-512 VNNI path multiply the int4 codes with
    // int8-quantized activations (awq/kernels/w4_int8_gemm.h) instead of dequantizing for
    // BLAS: on by default (3.9x the BLAS path for TinyLlama's prefill-512, docs/benchmarks.md);
    // off with AWQ_CPU_PREFILL=float or setInt8Prefill(false). Batched decode rows (2..16) on
    // that path multiply int8 activations too, inside the GEMV kernel (w4_avx512_vnni.cpp).
    static bool int8Prefill();
    static void setInt8Prefill(bool on);
    bool usesInt8Prefill() const; // enabled, and this CPU, ISA and geometry allow it

private:
    void runGemv(const float *x, int64_t rows, float *y) const;
    void runPanels(const at::Tensor &x, at::Tensor &y) const;
    void runInt8(const float *x, int64_t rows, float *y) const;

    kernels::W4Matrix m_matrix;
    at::Tensor m_qweight, m_qzeros, m_scales, m_bias;
    mutable std::vector<float> m_work; // w4_prepare workspace, grown on demand
};

// Stacks packed linears along their outputs (see stackOutputs in linear.h).
std::unique_ptr<QuantLinear> stackQuantLinears(const std::vector<const QuantLinear *> &parts);

// The same codes, zero points and scales in the GEMV packing (a one-time repack in memory;
// the file is untouched), or null when the GEMV packing cannot hold this group size. On the
// CPU the GEMV packing decodes 2-3x faster at every batch size and prefills as fast
// (docs/benchmarks.md), so the fused decoder repacks GEMM checkpoints for chat and generate.
std::unique_ptr<QuantLinear> repackedAsGemv(const QuantLinear &linear);

} // namespace awq
