#include "awq/nn/linear.h"

#include <sstream>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/nn/awq_dequant.h"
#include "awq/nn/quant_linear.h"

namespace awq {

DenseLinear::DenseLinear(at::Tensor weight, at::Tensor bias) : m_weight(std::move(weight)), m_bias(std::move(bias))
{
    AWQ_ASSERT(m_weight.dim() == 2, "linear weight must be 2-D, got ", m_weight.sizes());
}

at::Tensor DenseLinear::forward(const at::Tensor &x) const
{
    return m_bias.defined() ? at::linear(x, m_weight, m_bias) : at::linear(x, m_weight);
}

at::Tensor forwardRows(const Linear &linear, const at::Tensor &x)
{
    const int64_t in = linear.inFeatures(), out = linear.outFeatures();
    AWQ_CHECK(x.scalar_type() == at::kFloat && x.device().is_cpu() && x.dim() >= 1 && x.size(-1) == in,
              InvalidArgument, linear.describe(), " takes float32 CPU input [..., ", in, "], got ", x.sizes(), " ",
              c10::toString(x.scalar_type()), " on ", x.device().str());
    const at::Tensor rows = x.reshape({-1, in}).contiguous();
    at::Tensor y = at::empty({rows.size(0), out}, x.options());
    linear.forwardInto(rows, y);
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = out;
    return y.view(shape);
}

void DenseLinear::forwardInto(const at::Tensor &x, at::Tensor &y) const
{
    // One row is a matrix-vector product: BLAS gemv streams W once, where gemm with M = 1
    // first copies (packs) all of W (measured: half of an fp32 decode step went there).
    if (x.size(0) == 1) {
        auto out = y[0];
        at::mv_out(out, m_weight, x[0]);
    } else {
        at::mm_out(y, x, m_weight.t());
    }
    if (m_bias.defined())
        y.add_(m_bias);
}

uint64_t DenseLinear::weightBytes() const
{
    return m_weight.nbytes() + (m_bias.defined() ? m_bias.nbytes() : 0);
}

std::unique_ptr<Linear> stackOutputs(const std::vector<const Linear *> &parts)
{
    AWQ_CHECK(!parts.empty(), InvalidArgument, "nothing to stack");
    std::vector<const DenseLinear *> dense;
    std::vector<const QuantLinear *> quant;
    for (const Linear *p : parts) {
        if (auto *d = dynamic_cast<const DenseLinear *>(p))
            dense.push_back(d);
        else if (auto *q = dynamic_cast<const QuantLinear *>(p))
            quant.push_back(q);
    }
    if (quant.size() == parts.size())
        return stackQuantLinears(quant);
    AWQ_CHECK(dense.size() == parts.size(), InvalidArgument, "cannot stack ", parts.front()->describe(), " and ",
              parts.back()->describe(), ": mixed or unknown kinds of linear");
    std::vector<at::Tensor> weights, biases;
    bool anyBias = false;
    for (const DenseLinear *d : dense) {
        AWQ_CHECK(d->inFeatures() == dense.front()->inFeatures() &&
                      d->weight().scalar_type() == dense.front()->weight().scalar_type(),
                  InvalidArgument, "cannot stack ", d->describe(), " onto ", dense.front()->describe());
        weights.push_back(d->weight());
        anyBias = anyBias || d->bias().defined();
        biases.push_back(d->bias().defined() ? d->bias() : at::zeros({d->outFeatures()}, d->weight().options()));
    }
    return std::make_unique<DenseLinear>(at::cat(weights, 0), anyBias ? at::cat(biases, 0) : at::Tensor());
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
    if (target.dtype == at::kFloat && target.device.is_cpu()) {
        // The int4 kernels run on the packed tensors (copied out of the memory-mapped file).
        const AwqTensors t = readAwqTensors(store, prefix, inFeatures, outFeatures, quant);
        return std::make_unique<QuantLinear>(t.packing, inFeatures, outFeatures, t.groupSize, t.qweight.clone(),
                                             t.qzeros.clone(), t.scales.clone(), bias);
    }
    at::Tensor weight = dequantizeAwqLinear(store, prefix, inFeatures, outFeatures, quant);
    return std::make_unique<DenseLinear>(weight.to(target.dtype).to(target.device), bias);
}

} // namespace awq
