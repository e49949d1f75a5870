#include "awq/nn/llama_model.h"

#include <cmath>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/nn/kv_cache.h"

namespace awq {

namespace {
// fp16/bf16 are widened to float32 for reductions, as transformers does; float64
// (used by the reference tests) stays float64.
at::Tensor widened(const at::Tensor &x)
{
    return x.scalar_type() == at::kDouble ? x : x.to(at::kFloat);
}
} // namespace

at::Tensor rmsNorm(const at::Tensor &x, const at::Tensor &weight, double eps)
{
    // As transformers' LlamaRMSNorm: statistics in float32, scale in the input dtype.
    auto x32 = widened(x);
    auto normed = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
    return weight * normed.to(x.scalar_type());
}

at::Tensor causalAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v)
{
    const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3);
    const int64_t hkv = k.size(1), s = k.size(2);
    AWQ_ASSERT(h % hkv == 0 && s >= t, "attention shapes q ", q.sizes(), " k ", k.sizes());
    const int64_t group = h / hkv;
    // GQA without copying K/V: query heads of one KV head are stacked along the rows.
    auto qg = q.reshape({b, hkv, group * t, d});
    auto scores = widened(at::matmul(qg, k.transpose(-1, -2))) * (1.0 / std::sqrt(static_cast<double>(d)));
    if (t > 1) {
        auto rows = at::arange(s - t, s, at::TensorOptions().dtype(at::kLong).device(q.device())).unsqueeze(1);
        auto cols = at::arange(0, s, at::TensorOptions().dtype(at::kLong).device(q.device())).unsqueeze(0);
        auto masked = (cols > rows).repeat({group, 1}); // [group*t, s]
        scores = scores.masked_fill(masked, -std::numeric_limits<float>::infinity());
    }
    auto probs = at::softmax(scores, -1).to(v.scalar_type());
    return at::matmul(probs, v).reshape({b, h, t, d});
}

LlamaModel::LlamaModel(const ModelConfig &config) : m_config(config), m_rotary(config) {}
LlamaModel::~LlamaModel() = default;

std::unique_ptr<LlamaModel> LlamaModel::load(const WeightStore &store, const ModelConfig &config,
                                             const TensorTarget &target, const ProgressFn &progress)
{
    std::unique_ptr<LlamaModel> model(new LlamaModel(config));
    const ModelConfig &c = config;
    const int64_t qOut = c.numHeads * c.headDim;
    QuantizationConfig noQuant;
    model->m_embed = loadChecked(store, "model.embed_tokens.weight", {c.vocabSize, c.hiddenSize}, target);
    for (int64_t i = 0; i < c.numLayers; ++i) {
        if (progress)
            progress({"load", i, c.numLayers, "layer " + std::to_string(i + 1) + "/" + std::to_string(c.numLayers)});
        const std::string p = "model.layers." + std::to_string(i) + ".";
        const QuantizationConfig &q = c.quantization;
        DecoderLayer layer;
        layer.inputNorm = loadChecked(store, p + "input_layernorm.weight", {c.hiddenSize}, target);
        layer.postAttentionNorm = loadChecked(store, p + "post_attention_layernorm.weight", {c.hiddenSize}, target);
        layer.qProj = loadLinear(store, p + "self_attn.q_proj", c.hiddenSize, qOut, c.attentionBias, q, target);
        layer.kProj = loadLinear(store, p + "self_attn.k_proj", c.hiddenSize, c.kvDim(), c.attentionBias, q, target);
        layer.vProj = loadLinear(store, p + "self_attn.v_proj", c.hiddenSize, c.kvDim(), c.attentionBias, q, target);
        layer.oProj = loadLinear(store, p + "self_attn.o_proj", qOut, c.hiddenSize, false, q, target);
        layer.gateProj = loadLinear(store, p + "mlp.gate_proj", c.hiddenSize, c.intermediateSize, c.mlpBias, q, target);
        layer.upProj = loadLinear(store, p + "mlp.up_proj", c.hiddenSize, c.intermediateSize, c.mlpBias, q, target);
        layer.downProj = loadLinear(store, p + "mlp.down_proj", c.intermediateSize, c.hiddenSize, c.mlpBias, q, target);
        model->m_layers.push_back(std::move(layer));
    }
    model->m_finalNorm = loadChecked(store, "model.norm.weight", {c.hiddenSize}, target);
    if (c.tieWordEmbeddings || !store.contains("lm_head.weight")) {
        AWQ_CHECK(c.tieWordEmbeddings, Format, store.folder().string(),
                  ": 'lm_head.weight' is missing and config.json does not set tie_word_embeddings");
        model->m_lmHead = model->m_embed;
    } else {
        model->m_lmHead = loadChecked(store, "lm_head.weight", {c.vocabSize, c.hiddenSize}, target);
    }
    if (progress)
        progress({"load", c.numLayers, c.numLayers, "done"});
    return model;
}

std::unique_ptr<LlamaModel> LlamaModel::fromTensors(const ModelConfig &config,
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
    std::unique_ptr<LlamaModel> model(new LlamaModel(config));
    model->m_embed = get("model.embed_tokens.weight");
    for (int64_t i = 0; i < config.numLayers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        auto linear = [&](const std::string &name) {
            return std::make_unique<DenseLinear>(get(p + name + ".weight"), optional(p + name + ".bias"));
        };
        DecoderLayer layer;
        layer.inputNorm = get(p + "input_layernorm.weight");
        layer.postAttentionNorm = get(p + "post_attention_layernorm.weight");
        layer.qProj = linear("self_attn.q_proj");
        layer.kProj = linear("self_attn.k_proj");
        layer.vProj = linear("self_attn.v_proj");
        layer.oProj = linear("self_attn.o_proj");
        layer.gateProj = linear("mlp.gate_proj");
        layer.upProj = linear("mlp.up_proj");
        layer.downProj = linear("mlp.down_proj");
        model->m_layers.push_back(std::move(layer));
    }
    model->m_finalNorm = get("model.norm.weight");
    model->m_lmHead = config.tieWordEmbeddings ? model->m_embed : get("lm_head.weight");
    return model;
}

std::unique_ptr<LlamaModel> LlamaModel::fromParts(const ModelConfig &config, at::Tensor embed,
                                                  std::vector<DecoderLayer> layers, at::Tensor finalNorm,
                                                  at::Tensor lmHead)
{
    AWQ_CHECK(static_cast<int64_t>(layers.size()) == config.numLayers, InvalidArgument, "model has ", layers.size(),
              " layers, config says ", config.numLayers);
    std::unique_ptr<LlamaModel> model(new LlamaModel(config));
    model->m_embed = std::move(embed);
    model->m_layers = std::move(layers);
    model->m_finalNorm = std::move(finalNorm);
    model->m_lmHead = std::move(lmHead);
    return model;
}

std::string LlamaModel::describe() const
{
    std::string linear = m_layers.empty() ? std::string() : ", linears " + m_layers.front().qProj->describe();
    return m_config.modelType + ", " + std::to_string(m_config.numLayers) + " layers, "
           + c10::toString(dtype()) + " on " + device().str() + linear;
}

at::Tensor LlamaModel::embed(const at::Tensor &ids) const
{
    return at::embedding(m_embed, ids);
}

at::Tensor LlamaModel::layerForward(int64_t index, const at::Tensor &hidden, int64_t start, KVCache *cache)
{
    const DecoderLayer &l = layer(index);
    const ModelConfig &c = m_config;
    const int64_t b = hidden.size(0), t = hidden.size(1);

    auto x = rmsNorm(hidden, l.inputNorm, c.rmsNormEps);
    auto q = l.qProj->forward(x).view({b, t, c.numHeads, c.headDim}).transpose(1, 2);
    auto k = l.kProj->forward(x).view({b, t, c.numKvHeads, c.headDim}).transpose(1, 2);
    auto v = l.vProj->forward(x).view({b, t, c.numKvHeads, c.headDim}).transpose(1, 2);
    auto [cos, sin] = m_rotary.cosSin(start, t);
    cos = cos.to(hidden.device());
    sin = sin.to(hidden.device());
    q = applyRotary(q, cos, sin);
    k = applyRotary(k, cos, sin);
    if (cache)
        std::tie(k, v) = cache->append(index, k, v);
    auto attn = causalAttention(q, k, v).transpose(1, 2).reshape({b, t, c.numHeads * c.headDim});
    auto h = hidden + l.oProj->forward(attn);

    auto y = rmsNorm(h, l.postAttentionNorm, c.rmsNormEps);
    auto mlp = l.downProj->forward(at::silu(l.gateProj->forward(y)) * l.upProj->forward(y));
    return h + mlp;
}

at::Tensor LlamaModel::head(const at::Tensor &hidden) const
{
    auto normed = rmsNorm(hidden, m_finalNorm, m_config.rmsNormEps);
    return widened(at::linear(normed, m_lmHead));
}

at::Tensor LlamaModel::forward(const at::Tensor &ids, KVCache *cache, bool lastOnly)
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
