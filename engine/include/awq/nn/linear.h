#pragma once
// Linear layers of a model. The model holds them through this interface so that a
// full-precision linear and a quantized one are interchangeable.

#include <memory>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/model/config.h"

namespace awq {

class WeightStore;

class Linear
{
public:
    virtual ~Linear() = default;
    // x: [..., in_features] -> [..., out_features], in x's dtype.
    virtual at::Tensor forward(const at::Tensor &x) const = 0;
    virtual int64_t inFeatures() const = 0;
    virtual int64_t outFeatures() const = 0;
    virtual std::string describe() const = 0; // "fp32 [4096 -> 11008]"
    // y = x·Wᵀ (+ b) into a preallocated y: x [M, in] and y [M, out], both contiguous
    // float32 on the CPU. Allocates no tensor storage (the fused decode loop relies on it).
    virtual void forwardInto(const at::Tensor &x, at::Tensor &y) const = 0;
    // Bytes of weight data (and bias) this layer reads per forward.
    virtual uint64_t weightBytes() const = 0;
};

// y = x·Wᵀ + b with W stored [out, in] as in nn.Linear.
class DenseLinear final : public Linear
{
public:
    DenseLinear(at::Tensor weight, at::Tensor bias = {});
    at::Tensor forward(const at::Tensor &x) const override;
    void forwardInto(const at::Tensor &x, at::Tensor &y) const override;
    uint64_t weightBytes() const override;
    int64_t inFeatures() const override { return m_weight.size(1); }
    int64_t outFeatures() const override { return m_weight.size(0); }
    std::string describe() const override;

    const at::Tensor &weight() const { return m_weight; }
    const at::Tensor &bias() const { return m_bias; }

private:
    at::Tensor m_weight;
    at::Tensor m_bias;
};

struct TensorTarget {
    c10::ScalarType dtype = c10::kFloat;
    c10::Device device = c10::kCPU;
};

// forward() of the CPU kernels' linears (QuantLinear, HalfLinear, Int8Linear): checks that x
// is float32 on the CPU with in_features in its last dimension (Error(InvalidArgument) naming
// the linear otherwise), runs forwardInto on the flattened rows and gives back x's leading shape.
at::Tensor forwardRows(const Linear &linear, const at::Tensor &x);

// One linear whose outputs are those of `parts` stacked in order (q, k, v -> qkv), all of
// the same kind (dense with one dtype, or packed with one packing and group size).
// Throws Error(InvalidArgument) when they cannot be stacked.
std::unique_ptr<Linear> stackOutputs(const std::vector<const Linear *> &parts);

// Loads the linear `prefix` (e.g. "model.layers.0.self_attn.q_proj") from `store`:
// `prefix.weight` [out, in] for full precision, or the AWQ tensors (qweight, qzeros,
// scales) described by `quant`: a QuantLinear running the int4 kernels when the target is
// float32 on the CPU, otherwise dequantized into a DenseLinear by the reference rule.
// Shapes are checked against (outFeatures, inFeatures); mismatches throw Error(Format)
// naming the tensor and its file.
std::unique_ptr<Linear> loadLinear(const WeightStore &store, const std::string &prefix, int64_t inFeatures,
                                   int64_t outFeatures, bool hasBias, const QuantizationConfig &quant,
                                   const TensorTarget &target);

// Loads `name` converted to target dtype/device, after checking its shape.
at::Tensor loadChecked(const WeightStore &store, const std::string &name, at::IntArrayRef expectedShape,
                       const TensorTarget &target);

} // namespace awq
