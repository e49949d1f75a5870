#include "reference_llama.h"

#include <cmath>

#include <ATen/ATen.h>

namespace awq::test {

namespace {

at::Tensor d(const at::Tensor &t)
{
    return t.to(at::kDouble).contiguous();
}

// y[t][o] = Σ_i x[t][i] · w[o][i] (+ b[o]) with explicit loops.
at::Tensor refLinear(const at::Tensor &xIn, const at::Tensor &wIn, const at::Tensor &bIn = {})
{
    auto x = d(xIn), w = d(wIn);
    const int64_t T = x.size(0), I = x.size(1), O = w.size(0);
    auto y = at::zeros({T, O}, at::kDouble);
    auto xa = x.accessor<double, 2>();
    auto wa = w.accessor<double, 2>();
    auto ya = y.accessor<double, 2>();
    for (int64_t t = 0; t < T; ++t)
        for (int64_t o = 0; o < O; ++o) {
            double acc = 0;
            for (int64_t i = 0; i < I; ++i)
                acc += xa[t][i] * wa[o][i];
            ya[t][o] = acc;
        }
    if (bIn.defined())
        y += d(bIn);
    return y;
}

} // namespace

at::Tensor refRmsNorm(const at::Tensor &xIn, const at::Tensor &weight, double eps, bool plusOne)
{
    auto x = d(xIn), w = d(weight);
    auto y = at::empty_like(x);
    auto xa = x.accessor<double, 2>();
    auto ya = y.accessor<double, 2>();
    auto wa = w.accessor<double, 1>();
    for (int64_t t = 0; t < x.size(0); ++t) {
        double ss = 0;
        for (int64_t i = 0; i < x.size(1); ++i)
            ss += xa[t][i] * xa[t][i];
        const double inv = 1.0 / std::sqrt(ss / static_cast<double>(x.size(1)) + eps);
        for (int64_t i = 0; i < x.size(1); ++i)
            ya[t][i] = (plusOne ? 1.0 + wa[i] : wa[i]) * xa[t][i] * inv;
    }
    return y;
}

double refInverseFrequency(const ModelConfig &c, int64_t i)
{
    const double base = 1.0 / std::pow(c.ropeTheta, 2.0 * static_cast<double>(i) / static_cast<double>(c.headDim));
    const RopeScaling &s = c.ropeScaling;
    if (s.type == RopeScaling::Type::Linear)
        return base / s.factor;
    if (s.type == RopeScaling::Type::Llama3) {
        const double wavelen = 2.0 * M_PI / base;
        const double lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
        const double highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
        if (wavelen < highWavelen)
            return base;             // high frequency: unchanged
        if (wavelen > lowWavelen)
            return base / s.factor;  // low frequency: fully scaled
        const double smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor)
                              / (s.highFreqFactor - s.lowFreqFactor);
        return (1.0 - smooth) * base / s.factor + smooth * base;
    }
    return base;
}

at::Tensor refRope(const at::Tensor &xIn, const ModelConfig &c, int64_t start)
{
    auto x = d(xIn);
    auto y = at::empty_like(x);
    auto xa = x.accessor<double, 3>();
    auto ya = y.accessor<double, 3>();
    const int64_t half = c.headDim / 2;
    for (int64_t h = 0; h < x.size(0); ++h)
        for (int64_t t = 0; t < x.size(1); ++t)
            for (int64_t i = 0; i < half; ++i) {
                // The engine (like transformers) forms the angle in float32.
                const float angle = static_cast<float>(start + t) * static_cast<float>(refInverseFrequency(c, i));
                const double cs = std::cos(static_cast<double>(angle)), sn = std::sin(static_cast<double>(angle));
                const double a = xa[h][t][i], b = xa[h][t][i + half];
                ya[h][t][i] = a * cs - b * sn;
                ya[h][t][i + half] = b * cs + a * sn;
            }
    return y;
}

at::Tensor refAttention(const at::Tensor &qIn, const at::Tensor &kIn, const at::Tensor &vIn, double scale,
                        double softcap, int64_t window)
{
    auto q = d(qIn), k = d(kIn), v = d(vIn);
    const int64_t H = q.size(0), T = q.size(1), D = q.size(2), Hkv = k.size(0), S = k.size(1);
    auto out = at::zeros({H, T, D}, at::kDouble);
    auto qa = q.accessor<double, 3>();
    auto ka = k.accessor<double, 3>();
    auto va = v.accessor<double, 3>();
    auto oa = out.accessor<double, 3>();
    for (int64_t h = 0; h < H; ++h) {
        const int64_t kvh = h / (H / Hkv);
        for (int64_t t = 0; t < T; ++t) {
            const int64_t visible = S - T + t + 1;
            const int64_t first = window > 0 ? std::max<int64_t>(0, visible - window) : 0;
            std::vector<double> scores(static_cast<size_t>(visible));
            double maxScore = -INFINITY;
            for (int64_t s = first; s < visible; ++s) {
                double dot = 0;
                for (int64_t e = 0; e < D; ++e)
                    dot += qa[h][t][e] * ka[kvh][s][e];
                scores[s] = dot * (scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(D)));
                if (softcap > 0)
                    scores[s] = softcap * std::tanh(scores[s] / softcap);
                maxScore = std::max(maxScore, scores[s]);
            }
            double sum = 0;
            for (int64_t s = first; s < visible; ++s)
                sum += (scores[s] = std::exp(scores[s] - maxScore));
            for (int64_t s = first; s < visible; ++s)
                for (int64_t e = 0; e < D; ++e)
                    oa[h][t][e] += scores[s] / sum * va[kvh][s][e];
        }
    }
    return out;
}

at::Tensor refLogits(const ModelConfig &c, const std::map<std::string, at::Tensor> &w,
                     const std::vector<int64_t> &ids)
{
    auto get = [&](const std::string &name) { return d(w.at(name)); };
    auto opt = [&](const std::string &name) { return w.count(name) ? d(w.at(name)) : at::Tensor(); };
    const int64_t T = static_cast<int64_t>(ids.size());
    auto embed = get("model.embed_tokens.weight");
    auto h = at::zeros({T, c.hiddenSize}, at::kDouble);
    for (int64_t t = 0; t < T; ++t)
        h[t].copy_(embed[ids[t]]);
    // The architecture is read from model_type here, not from the engine's parsed flags.
    // gemma3: gemma2's block with (1 + w) q/k norms per head, and its sliding layers (the
    // config's layer kinds) rotated with the local base, unscaled, as transformers builds
    // them (a copy of the config with rope_theta = rope_local_base_freq, default rope).
    const bool gemma3 = c.modelType == "gemma3_text" || c.modelType == "gemma3";
    const bool gemma2 = c.modelType == "gemma2" || gemma3;
    const bool gemma = c.modelType == "gemma" || gemma2, phi3 = c.modelType == "phi3";
    const bool qwen3 = c.modelType == "qwen3" || c.modelType == "qwen3_moe";
    ModelConfig local = c;
    local.ropeTheta = c.ropeLocalTheta;
    local.ropeScaling = RopeScaling{};
    if (gemma)
        h = h * std::sqrt(static_cast<double>(c.hiddenSize));
    const bool plusOne = gemma;
    // qwen3, gemma3: RMSNorm of every head's D values, [T, n*D] -> [T, n*D].
    auto headNorm = [&](const at::Tensor &x, int64_t n, const at::Tensor &w) {
        auto out = at::empty_like(x);
        for (int64_t head = 0; head < n; ++head)
            out.narrow(1, head * c.headDim, c.headDim)
                .copy_(refRmsNorm(x.narrow(1, head * c.headDim, c.headDim), w, c.rmsNormEps, plusOne));
        return out;
    };
    for (int64_t l = 0; l < c.numLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        auto x = refRmsNorm(h, get(p + "input_layernorm.weight"), c.rmsNormEps, plusOne);
        at::Tensor q, k, v;
        if (phi3) { // one qkv_proj: columns q, then k, then v
            auto qkv = refLinear(x, get(p + "self_attn.qkv_proj.weight"));
            const int64_t qOut = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
            q = qkv.narrow(1, 0, qOut).contiguous();
            k = qkv.narrow(1, qOut, kv).contiguous();
            v = qkv.narrow(1, qOut + kv, kv).contiguous();
        } else {
            q = refLinear(x, get(p + "self_attn.q_proj.weight"), opt(p + "self_attn.q_proj.bias"));
            k = refLinear(x, get(p + "self_attn.k_proj.weight"), opt(p + "self_attn.k_proj.bias"));
            v = refLinear(x, get(p + "self_attn.v_proj.weight"), opt(p + "self_attn.v_proj.bias"));
        }
        if (qwen3 || gemma3) {
            q = headNorm(q, c.numHeads, get(p + "self_attn.q_norm.weight"));
            k = headNorm(k, c.numKvHeads, get(p + "self_attn.k_norm.weight"));
        }
        // [T, heads*D] -> [heads, T, D]
        auto heads = [&](const at::Tensor &t, int64_t n) { return t.view({T, n, c.headDim}).permute({1, 0, 2}); };
        const bool sliding = gemma3 ? c.layerKinds.at(static_cast<size_t>(l)) == AttentionKind::Sliding : l % 2 == 0;
        const ModelConfig &rope = gemma3 && sliding ? local : c;
        auto qh = refRope(heads(q, c.numHeads), rope, 0);
        auto kh = refRope(heads(k, c.numKvHeads), rope, 0);
        auto attn = gemma2 ? refAttention(qh, kh, heads(v, c.numKvHeads).contiguous(), c.queryScale,
                                          c.attnLogitSoftcap, sliding ? c.slidingWindow : 0)
                           : refAttention(qh, kh, heads(v, c.numKvHeads).contiguous());
        attn = attn.permute({1, 0, 2}).reshape({T, c.numHeads * c.headDim});
        auto attnOut = refLinear(attn, get(p + "self_attn.o_proj.weight"), opt(p + "self_attn.o_proj.bias"));
        if (gemma2)
            attnOut = refRmsNorm(attnOut, get(p + "post_attention_layernorm.weight"), c.rmsNormEps, true);
        h = h + attnOut;
        auto y = refRmsNorm(h, get(p + (gemma2 ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight")),
                            c.rmsNormEps, plusOne);
        if (c.isMoeLayer(l)) {
            h = h + refMoe(c, y, get, p);
            continue;
        }
        at::Tensor gate, up;
        if (phi3) { // one gate_up_proj: gate columns, then up
            auto gateUp = refLinear(y, get(p + "mlp.gate_up_proj.weight"));
            gate = gateUp.narrow(1, 0, c.intermediateSize).contiguous();
            up = gateUp.narrow(1, c.intermediateSize, c.intermediateSize).contiguous();
        } else {
            gate = refLinear(y, get(p + "mlp.gate_proj.weight"));
            up = refLinear(y, get(p + "mlp.up_proj.weight"));
        }
        at::Tensor act;
        if (gemma) // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            act = 0.5 * gate * (1.0 + at::tanh(std::sqrt(2.0 / M_PI) * (gate + 0.044715 * gate.pow(3)))) * up;
        else
            act = gate / (1.0 + at::exp(-gate)) * up; // SiLU(gate) * up
        auto mlpOut = refLinear(act, get(p + "mlp.down_proj.weight"));
        if (gemma2)
            mlpOut = refRmsNorm(mlpOut, get(p + "post_feedforward_layernorm.weight"), c.rmsNormEps, true);
        h = h + mlpOut;
    }
    auto normed = refRmsNorm(h, get("model.norm.weight"), c.rmsNormEps, plusOne);
    auto logits = refLinear(normed, c.tieWordEmbeddings ? embed : get("lm_head.weight"));
    if (gemma2 && c.finalLogitSoftcap > 0)
        logits = c.finalLogitSoftcap * at::tanh(logits / c.finalLogitSoftcap);
    return logits;
}

} // namespace awq::test
