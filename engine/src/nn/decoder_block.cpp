#include "awq/nn/decoder_block.h"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/nn/kv_cache.h"

namespace awq {

at::Tensor widened(const at::Tensor &x)
{
    return x.scalar_type() == at::kDouble ? x : x.to(at::kFloat);
}

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
    if (!config.arch().scaleEmbeddings)
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

DecoderBlock::DecoderBlock(const ModelConfig &config)
    : m_config(config), m_plusOne(config.arch().normPlusOne), m_rotary(config)
{
    if (config.ropeLocalTheta > 0)
        m_localRotary.emplace(config, /*local=*/true);
}

at::Tensor DecoderBlock::norm(const DecoderLayer &layer, NormRole role, const at::Tensor &x) const
{
    return rmsNorm(x, layer.norm(role), m_config.rmsNormEps, m_plusOne);
}

at::Tensor DecoderBlock::attention(const DecoderLayer &l, int64_t index, const at::Tensor &x, int64_t start,
                                   KVCache *cache)
{
    const ModelConfig &c = m_config;
    const int64_t b = x.size(0), t = x.size(1);
    at::Tensor q, k, v;
    if (const Linear *qkvProj = l.linear(LinearRole::Qkv)) { // stacked rows q; k; v
        auto qkv = qkvProj->forward(x);
        const int64_t qOut = c.numHeads * c.headDim;
        q = qkv.narrow(-1, 0, qOut);
        k = qkv.narrow(-1, qOut, c.kvDim());
        v = qkv.narrow(-1, qOut + c.kvDim(), c.kvDim());
    } else {
        q = l.linear(LinearRole::Q)->forward(x);
        k = l.linear(LinearRole::K)->forward(x);
        v = l.linear(LinearRole::V)->forward(x);
    }
    q = q.reshape({b, t, c.numHeads, c.headDim});
    k = k.reshape({b, t, c.numKvHeads, c.headDim});
    if (l.has(NormRole::QHead)) // each head normalised over head_dim, before RoPE
        q = norm(l, NormRole::QHead, q);
    if (l.has(NormRole::KHead))
        k = norm(l, NormRole::KHead, k);
    q = q.transpose(1, 2);
    k = k.transpose(1, 2);
    v = v.reshape({b, t, c.numKvHeads, c.headDim}).transpose(1, 2);
    auto [cos, sin] = (c.localRope(index) ? *m_localRotary : m_rotary).cosSin(start, t);
    cos = cos.to(x.device());
    sin = sin.to(x.device());
    q = applyRotary(q, cos, sin);
    k = applyRotary(k, cos, sin);
    if (cache)
        std::tie(k, v) = cache->append(index, k, v);
    auto attn = causalAttention(q, k, v, attentionOptions(c, index)).transpose(1, 2).reshape({b, t, c.numHeads * c.headDim});
    return l.linear(LinearRole::O)->forward(attn);
}

Linear *DecoderLayer::linear(const LinearId &id) const
{
    const size_t r = static_cast<size_t>(id.role);
    if (id.expert == kNoExpert)
        return linears[r].get();
    if (id.expert == kSharedExpert)
        return sharedExpert[r].get();
    return static_cast<size_t>(id.expert) < experts.size() ? experts[static_cast<size_t>(id.expert)][r].get() : nullptr;
}

std::unique_ptr<Linear> &DecoderLayer::slot(const LinearId &id)
{
    const size_t r = static_cast<size_t>(id.role);
    if (id.expert == kNoExpert)
        return linears[r];
    if (id.expert == kSharedExpert)
        return sharedExpert[r];
    AWQ_ASSERT(id.expert >= 0, "expert index ", id.expert);
    if (experts.size() <= static_cast<size_t>(id.expert))
        experts.resize(static_cast<size_t>(id.expert) + 1);
    return experts[static_cast<size_t>(id.expert)][r];
}

at::Tensor DecoderBlock::gatedMlp(const LinearsByRole &m, const at::Tensor &x, int64_t width) const
{
    auto linear = [&](LinearRole r) { return m[static_cast<size_t>(r)].get(); };
    at::Tensor gate, up;
    if (const Linear *gateUp = linear(LinearRole::GateUp)) { // stacked rows gate; up
        auto both = gateUp->forward(x);
        gate = both.narrow(-1, 0, width);
        up = both.narrow(-1, width, width);
    } else {
        gate = linear(LinearRole::Gate)->forward(x);
        up = linear(LinearRole::Up)->forward(x);
    }
    return linear(LinearRole::Down)->forward(gatedActivation(m_config, gate, up));
}

at::Tensor DecoderBlock::mlp(const DecoderLayer &l, const at::Tensor &y) const
{
    return l.moe() ? mixtureOfExperts(l, y) : gatedMlp(l.linears, y, m_config.intermediateSize);
}

// As transformers' MixtralSparseMoeBlock / Qwen2MoeSparseMoeBlock: routing in float32,
// each expert over the tokens routed to it, weighted, summed with index_add.
at::Tensor DecoderBlock::mixtureOfExperts(const DecoderLayer &l, const at::Tensor &y) const
{
    const MoeConfig &moe = m_config.moe;
    const at::Tensor x = y.reshape({-1, y.size(-1)});
    const at::Tensor probs = at::softmax(widened(l.linear(LinearRole::Router)->forward(x)), -1);
    auto [weights, chosen] = probs.topk(moe.expertsPerToken, -1);
    if (moe.normTopKProb)
        weights = weights / weights.sum(-1, /*keepdim=*/true);
    weights = weights.to(x.scalar_type());
    at::Tensor out = at::zeros_like(x);
    for (int64_t e = 0; e < moe.numExperts; ++e) {
        const at::Tensor hit = chosen.eq(e);                         // [N, k]
        const at::Tensor rows = hit.any(-1).nonzero().squeeze(1);    // tokens routed to e
        if (rows.numel() == 0)
            continue;
        const at::Tensor w = (weights * hit.to(weights.scalar_type())).sum(-1).index_select(0, rows);
        const at::Tensor ye = gatedMlp(l.experts[static_cast<size_t>(e)], x.index_select(0, rows),
                                       moe.expertIntermediateSize);
        out.index_add_(0, rows, ye * w.unsqueeze(1));
    }
    if (const Linear *sharedGate = l.linear(LinearRole::SharedExpertGate))
        out = out + at::sigmoid(sharedGate->forward(x)) * gatedMlp(l.sharedExpert, x, moe.sharedIntermediateSize);
    return out.reshape(y.sizes());
}

at::Tensor DecoderBlock::forward(const DecoderLayer &l, int64_t index, const at::Tensor &hidden, int64_t start,
                                 KVCache *cache)
{
    auto attnOut = attention(l, index, norm(l, NormRole::Input, hidden), start, cache);
    if (l.has(NormRole::AttnOut))
        attnOut = norm(l, NormRole::AttnOut, attnOut);
    auto h = hidden + attnOut;
    auto mlpOut = mlp(l, norm(l, NormRole::PreMlp, h));
    if (l.has(NormRole::MlpOut))
        mlpOut = norm(l, NormRole::MlpOut, mlpOut);
    return h + mlpOut;
}

} // namespace awq
