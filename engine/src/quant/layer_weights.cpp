#include "layer_weights.h"

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/nn/linear.h"

namespace awq {

at::Tensor &LayerWeights::weight(const LinearId &id)
{
    const auto it = weights.find(id);
    AWQ_ASSERT(it != weights.end(), "layer ", index, " has no ", roleName(id.role), " linear (expert ", id.expert, ")");
    return it->second;
}

const at::Tensor &LayerWeights::weight(const LinearId &id) const
{
    return const_cast<LayerWeights *>(this)->weight(id);
}

at::Tensor &LayerWeights::bias(const LinearId &id)
{
    return biases[id]; // an undefined tensor where the linear has none
}

DecoderLayer LayerWeights::view(const std::map<LinearId, at::Tensor> &candidates) const
{
    DecoderLayer layer;
    layer.norms = norms;
    for (const auto &[id, w] : weights) {
        const auto candidate = candidates.find(id);
        const auto b = biases.find(id);
        layer.slot(id) = std::make_unique<DenseLinear>(candidate == candidates.end() ? w : candidate->second,
                                                       b == biases.end() ? at::Tensor() : b->second);
    }
    return layer;
}

// NaN or infinite weights in the source would silently poison the scale search and give a
// checkpoint that generates garbage: refused, naming the tensor.
void requireFinite(const WeightStore &store, const std::string &name, const at::Tensor &t)
{
    const at::Tensor bad = at::logical_not(at::isfinite(t));
    const int64_t count = bad.sum().item<int64_t>();
    if (count == 0)
        return;
    const int64_t first = bad.flatten().nonzero()[0][0].item<int64_t>();
    fail(ErrorCode::Format, store.fileOf(name).path().string(), ": tensor '", name, "' holds ", count,
         " NaN or infinite value", count == 1 ? "" : "s", " (the first at flat index ", first,
         "); the model file is damaged, and quantizing it would give a broken checkpoint");
}

LayerWeights loadLayerWeights(const WeightStore &store, const ModelConfig &c, int64_t layer)
{
    const TensorTarget f32{at::kFloat, at::kCPU};
    const auto load = [&store, &f32](const std::string &name, at::IntArrayRef shape) {
        at::Tensor t = loadChecked(store, name, shape, f32);
        requireFinite(store, name, t);
        return t;
    };
    LayerWeights l;
    l.index = layer;
    l.tensors = layerTensors(c, layer);
    for (const LayerTensor &t : l.tensors) {
        if (!t.linear) {
            const std::string name = t.name + ".weight";
            l.norm(t.normRole) = load(name, {t.outFeatures});
            l.normDtypes[static_cast<size_t>(t.normRole)] = toScalarType(store.info(name).dtype);
            store.release(name);
            continue;
        }
        AWQ_CHECK(!store.contains(t.name + ".qweight"), InvalidArgument, store.folder().string(), ": '", t.name,
                  "' is already quantized; AWQ needs a full-precision model");
        l.weights[t.id()] = load(t.name + ".weight", {t.outFeatures, t.inFeatures});
        store.release(t.name + ".weight");
        if (store.contains(t.name + ".bias"))
            l.biases[t.id()] = load(t.name + ".bias", {t.outFeatures});
    }
    return l;
}

void divideNorm(const Architecture &arch, at::Tensor &norm, const at::Tensor &s)
{
    if (arch.normPlusOne)
        norm.add_(1.0).div_(s).sub_(1.0);
    else
        norm.div_(s);
}

} // namespace awq
