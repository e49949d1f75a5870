#include "awq/nn/reference_model.h"

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/nn/kv_cache.h"

namespace awq {

ReferenceModel::ReferenceModel(const ModelConfig &config) : m_config(config), m_block(config) {}
ReferenceModel::~ReferenceModel() = default;

std::unique_ptr<ReferenceModel> ReferenceModel::load(const WeightStore &store, const ModelConfig &config,
                                             const TensorTarget &target, const ProgressFn &progress)
{
    std::unique_ptr<ReferenceModel> model(new ReferenceModel(config));
    const ModelConfig &c = config;
    const TensorLayout &arch = c.names();
    model->m_embed = loadChecked(store, arch.embedName, {c.vocabSize, c.hiddenSize}, target);
    for (int64_t i = 0; i < c.numLayers; ++i) {
        if (progress)
            progress({"load", i, c.numLayers, "layer " + std::to_string(i + 1) + "/" + std::to_string(c.numLayers)});
        DecoderLayer layer;
        for (const LayerTensor &t : layerTensors(c, i)) {
            if (t.linear)
                layer.slot(t.id()) =
                    loadLinear(store, t.name, t.inFeatures, t.outFeatures, t.biasRequired, c.quantization, target);
            else
                layer.norm(t.normRole) = loadChecked(store, t.name + ".weight", {t.outFeatures}, target);
        }
        model->m_layers.push_back(std::move(layer));
    }
    model->m_finalNorm = loadChecked(store, arch.finalNormName, {c.hiddenSize}, target);
    if (c.tieWordEmbeddings || !store.contains(arch.lmHeadName)) {
        AWQ_CHECK(c.tieWordEmbeddings, Format, store.folder().string(), ": '", arch.lmHeadName,
                  "' is missing and config.json does not set tie_word_embeddings");
        model->m_lmHead = model->m_embed;
    } else {
        model->m_lmHead = loadChecked(store, arch.lmHeadName, {c.vocabSize, c.hiddenSize}, target);
    }
    if (progress)
        progress({"load", c.numLayers, c.numLayers, "done"});
    return model;
}

std::unique_ptr<ReferenceModel> ReferenceModel::fromTensors(const ModelConfig &config,
                                                    const std::map<std::string, at::Tensor> &tensors)
{
    auto get = [&](const std::string &name) -> at::Tensor {
        auto it = tensors.find(name);
        AWQ_CHECK(it != tensors.end(), NotFound, "tensor '", name, "' is missing");
        return it->second;
    };
    auto optional = [&](const std::string &name) -> at::Tensor {
        auto it = tensors.find(name);
        return it == tensors.end() ? at::Tensor() : it->second;
    };
    const TensorLayout &arch = config.names();
    std::unique_ptr<ReferenceModel> model(new ReferenceModel(config));
    model->m_embed = get(arch.embedName);
    for (int64_t i = 0; i < config.numLayers; ++i) {
        DecoderLayer layer;
        for (const LayerTensor &t : layerTensors(config, i)) {
            if (t.linear)
                layer.slot(t.id()) = std::make_unique<DenseLinear>(get(t.name + ".weight"), optional(t.name + ".bias"));
            else
                layer.norm(t.normRole) = get(t.name + ".weight");
        }
        model->m_layers.push_back(std::move(layer));
    }
    model->m_finalNorm = get(arch.finalNormName);
    model->m_lmHead = config.tieWordEmbeddings ? model->m_embed : get(arch.lmHeadName);
    return model;
}

std::unique_ptr<ReferenceModel> ReferenceModel::fromParts(const ModelConfig &config, at::Tensor embed,
                                                  std::vector<DecoderLayer> layers, at::Tensor finalNorm,
                                                  at::Tensor lmHead)
{
    AWQ_CHECK(static_cast<int64_t>(layers.size()) == config.numLayers, InvalidArgument, "model has ", layers.size(),
              " layers, config says ", config.numLayers);
    std::unique_ptr<ReferenceModel> model(new ReferenceModel(config));
    model->m_embed = std::move(embed);
    model->m_layers = std::move(layers);
    model->m_finalNorm = std::move(finalNorm);
    model->m_lmHead = std::move(lmHead);
    return model;
}

std::string ReferenceModel::describe() const
{
    const Linear *shown = nullptr;
    if (!m_layers.empty())
        for (const Linear *l : {m_layers.front().linear(LinearRole::Q), m_layers.front().linear(LinearRole::Qkv)})
            shown = shown ? shown : l;
    std::string linear = shown ? ", linears " + shown->describe() : std::string();
    return m_config.modelType + ", " + std::to_string(m_config.numLayers) + " layers, "
           + c10::toString(dtype()) + " on " + device().str() + linear;
}

at::Tensor ReferenceModel::embed(const at::Tensor &ids) const
{
    return scaleEmbeddings(m_config, at::embedding(m_embed, ids));
}

at::Tensor ReferenceModel::layerForward(int64_t index, const at::Tensor &hidden, int64_t start, KVCache *cache)
{
    return m_block.forward(layer(index), index, hidden, start, cache);
}

at::Tensor ReferenceModel::head(const at::Tensor &hidden) const
{
    auto normed = rmsNorm(hidden, m_finalNorm, m_config.rmsNormEps, m_config.arch().normPlusOne);
    return softcapped(widened(at::linear(normed, m_lmHead)), m_config.finalLogitSoftcap);
}

at::Tensor ReferenceModel::forward(const at::Tensor &ids, KVCache *cache, bool lastOnly)
{
    AWQ_CHECK(ids.dim() == 2 && ids.size(1) >= 1, InvalidArgument, "input ids must be [batch, tokens], got ",
              ids.sizes());
    const int64_t start = cache ? cache->length() : 0;
    const int64_t t = ids.size(1);
    auto hidden = embed(ids.to(at::kLong).to(device()));
    for (int64_t i = 0; i < m_config.numLayers; ++i)
        hidden = layerForward(i, hidden, start, cache);
    if (cache)
        cache->advance(t);
    if (lastOnly)
        hidden = hidden.narrow(1, t - 1, 1);
    return head(hidden);
}

} // namespace awq
