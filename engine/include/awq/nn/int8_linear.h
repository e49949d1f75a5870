#pragma once
// Int8Linear: a linear whose weight is held as int8 per block of 128 inputs with a float
// scale per block (kernels/i8_linear.h). The fused decoder's `--lm-head int8` option: the
// lm_head is the largest single matrix a small model streams per decode step (TinyLlama:
// 131 MB in fp16 of 0.64 GB), and llama.cpp's Q4_0 files carry it in 6.6 bits (Q6_K).
// Logits move by the weight's rounding: docs/quality.md has the perplexity it costs.
// Float32 activations in and out, CPU only. Fast with AVX-512 VNNI; elsewhere a scalar loop
// (the decoder keeps fp16 there: int8Available()).

#include <vector>

#include <ATen/Tensor.h>

#include "awq/kernels/i8_linear.h"
#include "awq/nn/linear.h"

namespace awq {

// Which form the fused CPU decoder keeps a quantized model's lm_head in.
enum class LmHeadFormat {
    Source, // as the checkpoint stores it (fp16 for AWQ checkpoints; float32 otherwise)
    Int8    // Int8Linear where the CPU has AVX-512 VNNI, Source elsewhere
};

// The process-wide choice: AWQ_CPU_LM_HEAD=int8 in the environment, or setLmHeadFormat().
LmHeadFormat lmHeadFormat();
void setLmHeadFormat(LmHeadFormat format);
// "source" / "int8"; parseLmHeadFormat throws Error(InvalidArgument) naming the accepted values.
const char *lmHeadFormatName(LmHeadFormat format);
LmHeadFormat parseLmHeadFormat(const std::string &name);

class Int8Linear final : public Linear
{
public:
    // weight: [out, in] of any floating dtype, in a multiple of 128 (Error(InvalidArgument)
    // otherwise); quantized 128 inputs at a time (s = max|w| / 127).
    explicit Int8Linear(const at::Tensor &weight);

    // Whether this CPU runs the int8 kernel fast (AVX-512 VNNI) and K suits it.
    static bool int8Available(int64_t inFeatures);

    at::Tensor forward(const at::Tensor &x) const override;
    void forwardInto(const at::Tensor &x, at::Tensor &y) const override;
    int64_t inFeatures() const override { return m_matrix.K; }
    int64_t outFeatures() const override { return m_matrix.N; }
    std::string describe() const override; // "int8 b128 [2048 -> 32000]"
    uint64_t weightBytes() const override;

    // The weight as the kernels see it (s · q), [out, in] float32: for tests and error figures.
    at::Tensor dequantized() const;

private:
    at::Tensor m_codes;  // uint8 [out, in], Note [int8 weights on VNNI] order
    at::Tensor m_scales; // float32 [out, in / 128]
    kernels::I8Matrix m_matrix;
    mutable std::vector<float> m_work; // w4_prepare's workspace, grown once
};

} // namespace awq
