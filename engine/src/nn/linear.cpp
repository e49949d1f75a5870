#include "awq/nn/linear.h"

#include <sstream>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/nn/awq_dequant.h"

namespace awq {

DenseLinear::DenseLinear(at::Tensor weight, at::Tensor bias) : m_weight(std::move(weight)), m_bias(std::move(bias))
{
    AWQ_ASSERT(m_weight.dim() == 2, "linear weight must be 2-D, got ", m_weight.sizes());
}

at::Tensor DenseLinear::forward(const at::Tensor &x) const
{
    return m_bias.defined() ? at::linear(x, m_weight, m_bias) : at::linear(x, m_weight);
}

std::string DenseLinear::describe() const
{
    std::ostringstream out;
    out << c10::toString(m_weight.scalar_type()) << " [" << inFeatures() << " -> " << outFeatures() << "]";
    return out.str();
}

at::Tensor loadChecked(const WeightStore &store, const std::string &name, at::IntArrayRef expectedShape,
                       const TensorTarget &target)
{
    AWQ_CHECK(store.contains(name), Format, store.folder().string(), ": tensor '", name, "' is missing");
    const TensorInfo &info = store.info(name);
    AWQ_CHECK(at::IntArrayRef(info.shape) == expectedShape, Format, store.fileOf(name).path().string(), ": tensor '",
              name, "' has shape ", at::IntArrayRef(info.shape), ", config.json implies ", expectedShape);
    return store.load(name, target.dtype).to(target.device);
}

std::unique_ptr<Linear> loadLinear(const WeightStore &store, const std::string &prefix, int64_t inFeatures,
                                   int64_t outFeatures, bool hasBias, const QuantizationConfig &quant,
                                   const TensorTarget &target)
{
    at::Tensor bias;
    if (hasBias || store.contains(prefix + ".bias"))
        bias = loadChecked(store, prefix + ".bias", {outFeatures}, target);
    if (store.contains(prefix + ".weight"))
        return std::make_unique<DenseLinear>(loadChecked(store, prefix + ".weight", {outFeatures, inFeatures}, target),
                                             bias);
    AWQ_CHECK(store.contains(prefix + ".qweight"), Format, store.folder().string(), ": neither '", prefix,
              ".weight' nor '", prefix, ".qweight' is present");
    AWQ_CHECK(quant.present, Format, store.folder().string(), ": '", prefix,
              ".qweight' is present but config.json has no quantization_config");
    at::Tensor weight = dequantizeAwqLinear(store, prefix, inFeatures, outFeatures, quant);
    return std::make_unique<DenseLinear>(weight.to(target.dtype).to(target.device), bias);
}

} // namespace awq
