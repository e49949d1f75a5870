#include "layer_weights.h"

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/nn/linear.h"

namespace awq {

DecoderLayer LayerWeights::view(const std::map<LinearRole, at::Tensor> &candidates) const
{
    DecoderLayer layer;
    layer.norms = norms;
    for (size_t r = 0; r < kLinearRoleCount; ++r) {
        if (!weights[r].defined())
            continue;
        const auto candidate = candidates.find(static_cast<LinearRole>(r));
        layer.linears[r] =
            std::make_unique<DenseLinear>(candidate == candidates.end() ? weights[r] : candidate->second, biases[r]);
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
        l.weight(t.linearRole) = load(t.name + ".weight", {t.outFeatures, t.inFeatures});
        store.release(t.name + ".weight");
        if (store.contains(t.name + ".bias"))
            l.bias(t.linearRole) = load(t.name + ".bias", {t.outFeatures});
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
