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

at::Tensor rmsNorm(const at::Tensor &x, const at::Tensor &weight, double eps, bool plusOne)
{
    // As transformers' LlamaRMSNorm: statistics in float32, scale in the input dtype;
    // GemmaRMSNorm scales by (1 + weight) in float32 before casting back.
    auto x32 = widened(x);
    auto normed = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
    if (plusOne)
        return (normed * (1.0 + widened(weight))).to(x.scalar_type());
    return weight * normed.to(x.scalar_type());
}

at::Tensor gatedActivation(const ModelConfig &config, const at::Tensor &gate, const at::Tensor &up)
{
    if (config.activation == Activation::GeluTanh)
        return at::gelu(gate, "tanh") * up;
    return at::silu(gate) * up;
}

at::Tensor scaleEmbeddings(const ModelConfig &config, const at::Tensor &embedded)
{
    if (!config.scaleEmbeddings)
        return embedded;
    // transformers: hidden * torch.tensor(hidden_size ** 0.5, dtype=hidden.dtype)
    const auto normalizer = at::scalar_tensor(std::sqrt(static_cast<double>(config.hiddenSize)), embedded.options());
    return embedded * normalizer;
}

AttentionOptions attentionOptions(const ModelConfig &config, int64_t layer)
{
    return {config.attentionScale(), config.attnLogitSoftcap, config.attentionWindow(layer)};
}

at::Tensor softcapped(const at::Tensor &x, double cap)
{
    return cap > 0 ? at::tanh(x / cap) * cap : x;
}

at::Tensor causalAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                           const AttentionOptions &options)
{
    const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3);
    const int64_t hkv = k.size(1), s = k.size(2);
    AWQ_ASSERT(h % hkv == 0 && s >= t, "attention shapes q ", q.sizes(), " k ", k.sizes());
    const int64_t group = h / hkv;
    // GQA without copying K/V: query heads of one KV head are stacked along the rows.
    auto qg = q.reshape({b, hkv, group * t, d});
    const double scale = options.scale > 0 ? options.scale : 1.0 / std::sqrt(static_cast<double>(d));
    auto scores = softcapped(widened(at::matmul(qg, k.transpose(-1, -2))) * scale, options.softcap);
    const bool windowed = options.window > 0 && s > options.window;
    if (t > 1 || windowed) {
        auto rows = at::arange(s - t, s, at::TensorOptions().dtype(at::kLong).device(q.device())).unsqueeze(1);
        auto cols = at::arange(0, s, at::TensorOptions().dtype(at::kLong).device(q.device())).unsqueeze(0);
        auto future = cols > rows;
        if (windowed)
            future = future.logical_or(cols <= rows - options.window);
        auto masked = future.repeat({group, 1}); // [group*t, s]
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
        if (c.fusedProjections) {
            layer.qkvProj = loadLinear(store, p + "self_attn.qkv_proj", c.hiddenSize, qOut + 2 * c.kvDim(),
                                       c.attentionBias, q, target);
        } else {
            layer.qProj = loadLinear(store, p + "self_attn.q_proj", c.hiddenSize, qOut, c.attentionBias, q, target);
            layer.kProj = loadLinear(store, p + "self_attn.k_proj", c.hiddenSize, c.kvDim(), c.attentionBias, q, target);
            layer.vProj = loadLinear(store, p + "self_attn.v_proj", c.hiddenSize, c.kvDim(), c.attentionBias, q, target);
        }
        layer.oProj = loadLinear(store, p + "self_attn.o_proj", qOut, c.hiddenSize, false, q, target);
        if (c.fusedProjections) {
            layer.gateUpProj = loadLinear(store, p + "mlp.gate_up_proj", c.hiddenSize, 2 * c.intermediateSize,
                                          c.mlpBias, q, target);
        } else {
            layer.gateProj = loadLinear(store, p + "mlp.gate_proj", c.hiddenSize, c.intermediateSize, c.mlpBias, q, target);
            layer.upProj = loadLinear(store, p + "mlp.up_proj", c.hiddenSize, c.intermediateSize, c.mlpBias, q, target);
        }
        layer.downProj = loadLinear(store, p + "mlp.down_proj", c.intermediateSize, c.hiddenSize, c.mlpBias, q, target);
        if (c.qkNorm) {
            layer.qNorm = loadChecked(store, p + "self_attn.q_norm.weight", {c.headDim}, target);
            layer.kNorm = loadChecked(store, p + "self_attn.k_norm.weight", {c.headDim}, target);
        }
        if (c.sandwichNorms) {
            const std::vector<int64_t> hidden = {c.hiddenSize};
            layer.preFeedforwardNorm = loadChecked(store, p + "pre_feedforward_layernorm.weight", hidden, target);
            layer.postFeedforwardNorm = loadChecked(store, p + "post_feedforward_layernorm.weight", hidden, target);
        }
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
        if (config.fusedProjections) {
            layer.qkvProj = linear("self_attn.qkv_proj");
            layer.gateUpProj = linear("mlp.gate_up_proj");
        } else {
            layer.qProj = linear("self_attn.q_proj");
            layer.kProj = linear("self_attn.k_proj");
            layer.vProj = linear("self_attn.v_proj");
            layer.gateProj = linear("mlp.gate_proj");
            layer.upProj = linear("mlp.up_proj");
        }
        layer.oProj = linear("self_attn.o_proj");
        layer.downProj = linear("mlp.down_proj");
        if (config.qkNorm) {
            layer.qNorm = get(p + "self_attn.q_norm.weight");
            layer.kNorm = get(p + "self_attn.k_norm.weight");
        }
        if (config.sandwichNorms) {
            layer.preFeedforwardNorm = get(p + "pre_feedforward_layernorm.weight");
            layer.postFeedforwardNorm = get(p + "post_feedforward_layernorm.weight");
        }
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
    const DecoderLayer *first = m_layers.empty() ? nullptr : &m_layers.front();
    const Linear *shown = first ? (first->qProj ? first->qProj.get() : first->qkvProj.get()) : nullptr;
    std::string linear = shown ? ", linears " + shown->describe() : std::string();
    return m_config.modelType + ", " + std::to_string(m_config.numLayers) + " layers, "
           + c10::toString(dtype()) + " on " + device().str() + linear;
}

at::Tensor LlamaModel::embed(const at::Tensor &ids) const
{
    return scaleEmbeddings(m_config, at::embedding(m_embed, ids));
}

at::Tensor LlamaModel::layerForward(int64_t index, const at::Tensor &hidden, int64_t start, KVCache *cache)
{
    const DecoderLayer &l = layer(index);
    const ModelConfig &c = m_config;
    const int64_t b = hidden.size(0), t = hidden.size(1);

    auto x = rmsNorm(hidden, l.inputNorm, c.rmsNormEps, c.normPlusOne);
    at::Tensor q, k, v;
    if (l.qkvProj) { // phi3: one projection, rows q; k; v
        auto qkv = l.qkvProj->forward(x);
        const int64_t qOut = c.numHeads * c.headDim;
        q = qkv.narrow(-1, 0, qOut);
        k = qkv.narrow(-1, qOut, c.kvDim());
        v = qkv.narrow(-1, qOut + c.kvDim(), c.kvDim());
    } else {
        q = l.qProj->forward(x);
        k = l.kProj->forward(x);
        v = l.vProj->forward(x);
    }
    q = q.reshape({b, t, c.numHeads, c.headDim});
    k = k.reshape({b, t, c.numKvHeads, c.headDim});
    if (c.qkNorm) { // qwen3: each head normalised over headDim, before RoPE
        q = rmsNorm(q, l.qNorm, c.rmsNormEps);
        k = rmsNorm(k, l.kNorm, c.rmsNormEps);
    }
    q = q.transpose(1, 2);
    k = k.transpose(1, 2);
    v = v.reshape({b, t, c.numKvHeads, c.headDim}).transpose(1, 2);
    auto [cos, sin] = m_rotary.cosSin(start, t);
    cos = cos.to(hidden.device());
    sin = sin.to(hidden.device());
    q = applyRotary(q, cos, sin);
    k = applyRotary(k, cos, sin);
    if (cache)
        std::tie(k, v) = cache->append(index, k, v);
    auto attn = causalAttention(q, k, v, attentionOptions(c, index))
                    .transpose(1, 2)
                    .reshape({b, t, c.numHeads * c.headDim});
    auto attnOut = l.oProj->forward(attn);
    if (c.sandwichNorms)
        attnOut = rmsNorm(attnOut, l.postAttentionNorm, c.rmsNormEps, c.normPlusOne);
    auto h = hidden + attnOut;

    auto y = rmsNorm(h, c.sandwichNorms ? l.preFeedforwardNorm : l.postAttentionNorm, c.rmsNormEps, c.normPlusOne);
    at::Tensor gate, up;
    if (l.gateUpProj) { // phi3: rows gate; up
        auto gateUp = l.gateUpProj->forward(y);
        gate = gateUp.narrow(-1, 0, c.intermediateSize);
        up = gateUp.narrow(-1, c.intermediateSize, c.intermediateSize);
    } else {
        gate = l.gateProj->forward(y);
        up = l.upProj->forward(y);
    }
    auto mlp = l.downProj->forward(gatedActivation(c, gate, up));
    if (c.sandwichNorms)
        mlp = rmsNorm(mlp, l.postFeedforwardNorm, c.rmsNormEps, c.normPlusOne);
    return h + mlp;
}

at::Tensor LlamaModel::head(const at::Tensor &hidden) const
{
    auto normed = rmsNorm(hidden, m_finalNorm, m_config.rmsNormEps, m_config.normPlusOne);
    return softcapped(widened(at::linear(normed, m_lmHead)), m_config.finalLogitSoftcap);
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
