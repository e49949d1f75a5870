#pragma once
// HalfLinear: a linear whose weight stays in fp16 ([out, in]) and is widened inside the
// kernel (kernels/f16_linear.h). The fused decoder uses it for the lm_head of quantized
// models, whose checkpoints store it in fp16: the same values as the float32 copy, half
// the bytes to stream per token. Float32 activations in and out, CPU only.

#include <ATen/Tensor.h>

#include "awq/nn/linear.h"

namespace awq {

class HalfLinear final : public Linear
{
public:
    // weight: [out, in], any floating dtype; stored as fp16 (rounded if it is not already
    // exactly fp16 — see isExactlyHalf()).
    explicit HalfLinear(const at::Tensor &weight);

    at::Tensor forward(const at::Tensor &x) const override;
    void forwardInto(const at::Tensor &x, at::Tensor &y) const override;
    int64_t inFeatures() const override { return m_weight.size(1); }
    int64_t outFeatures() const override { return m_weight.size(0); }
    std::string describe() const override;
    uint64_t weightBytes() const override { return m_weight.nbytes(); }

    // Whether every element of t survives a round trip through fp16 unchanged.
    static bool isExactlyHalf(const at::Tensor &t);

private:
    at::Tensor m_weight; // fp16, contiguous
};

} // namespace awq
