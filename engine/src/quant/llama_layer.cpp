#include "llama_layer.h"

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/nn/linear.h"
#include "awq/nn/llama_model.h"
#include "awq/nn/rope.h"

namespace awq {

namespace {

at::Tensor linear(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b)
{
    return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
}

// Runs fn over slices of `blocks` blocks along dim 0 and concatenates the results.
template <typename Fn>
at::Tensor bySlices(const at::Tensor &x, int64_t blocks, Fn fn)
{
    if (x.size(0) <= blocks)
        return fn(x);
    std::vector<at::Tensor> parts;
    for (int64_t begin = 0; begin < x.size(0); begin += blocks)
        parts.push_back(fn(x.slice(0, begin, std::min(x.size(0), begin + blocks))));
    return at::cat(parts, 0);
}

} // namespace

const std::vector<std::string> &llamaLinearNames()
{
    static const std::vector<std::string> names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                   "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                                   "mlp.down_proj"};
    return names;
}

const std::vector<std::string> &linearNames(const ModelConfig &config)
{
    static const std::vector<std::string> fused = {"self_attn.qkv_proj", "self_attn.o_proj", "mlp.gate_up_proj",
                                                   "mlp.down_proj"};
    return config.fusedProjections ? fused : llamaLinearNames();
}

Projections splitProjections(const ModelConfig &c, const std::map<std::string, at::Tensor> &w,
                             const LayerWeights &layer)
{
    Projections p;
    if (!c.fusedProjections) {
        p.wq = w.at("self_attn.q_proj"), p.bq = layer.b("self_attn.q_proj");
        p.wk = w.at("self_attn.k_proj"), p.bk = layer.b("self_attn.k_proj");
        p.wv = w.at("self_attn.v_proj"), p.bv = layer.b("self_attn.v_proj");
        p.wg = w.at("mlp.gate_proj"), p.bg = layer.b("mlp.gate_proj");
        p.wu = w.at("mlp.up_proj"), p.bu = layer.b("mlp.up_proj");
        return p;
    }
    auto rows = [](const at::Tensor &t, int64_t start, int64_t n) { return t.defined() ? t.narrow(0, start, n) : t; };
    const int64_t qOut = c.numHeads * c.headDim, kv = c.kvDim(), inter = c.intermediateSize;
    const at::Tensor &qkv = w.at("self_attn.qkv_proj"), qkvBias = layer.b("self_attn.qkv_proj");
    p.wq = rows(qkv, 0, qOut), p.bq = rows(qkvBias, 0, qOut);
    p.wk = rows(qkv, qOut, kv), p.bk = rows(qkvBias, qOut, kv);
    p.wv = rows(qkv, qOut + kv, kv), p.bv = rows(qkvBias, qOut + kv, kv);
    const at::Tensor &gateUp = w.at("mlp.gate_up_proj"), gateUpBias = layer.b("mlp.gate_up_proj");
    p.wg = rows(gateUp, 0, inter), p.bg = rows(gateUpBias, 0, inter);
    p.wu = rows(gateUp, inter, inter), p.bu = rows(gateUpBias, inter, inter);
    return p;
}

std::string layerPrefix(int64_t layer)
{
    return "model.layers." + std::to_string(layer) + ".";
}

const char *mlpNormName(const ModelConfig &config)
{
    return config.sandwichNorms ? "pre_feedforward_layernorm" : "post_attention_layernorm";
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
    const std::string p = layerPrefix(layer);
    const TensorTarget f32{at::kFloat, at::kCPU};
    const int64_t qOut = c.numHeads * c.headDim;
    const auto load = [&store, &f32](const std::string &name, at::IntArrayRef shape) {
        at::Tensor t = loadChecked(store, name, shape, f32);
        requireFinite(store, name, t);
        return t;
    };
    LayerWeights l;
    l.index = layer;
    l.inputNorm = load(p + "input_layernorm.weight", {c.hiddenSize});
    l.postNorm = load(p + mlpNormName(c) + ".weight", {c.hiddenSize});
    if (c.sandwichNorms) { // read only: the output copies them unchanged from the store
        l.attnOutNorm = load(p + "post_attention_layernorm.weight", {c.hiddenSize});
        l.mlpOutNorm = load(p + "post_feedforward_layernorm.weight", {c.hiddenSize});
    }
    l.normDtype = toScalarType(store.info(p + "input_layernorm.weight").dtype);
    const std::map<std::string, std::pair<int64_t, int64_t>> shapes = {
        {"self_attn.q_proj", {qOut, c.hiddenSize}},         {"self_attn.k_proj", {c.kvDim(), c.hiddenSize}},
        {"self_attn.v_proj", {c.kvDim(), c.hiddenSize}},    {"self_attn.o_proj", {c.hiddenSize, qOut}},
        {"mlp.gate_proj", {c.intermediateSize, c.hiddenSize}}, {"mlp.up_proj", {c.intermediateSize, c.hiddenSize}},
        {"mlp.down_proj", {c.hiddenSize, c.intermediateSize}},
        {"self_attn.qkv_proj", {qOut + 2 * c.kvDim(), c.hiddenSize}},
        {"mlp.gate_up_proj", {2 * c.intermediateSize, c.hiddenSize}}};
    for (const auto &name : linearNames(c)) {
        const auto [out, in] = shapes.at(name);
        const std::string full = p + name;
        AWQ_CHECK(!store.contains(full + ".qweight"), InvalidArgument, store.folder().string(), ": '", full,
                  "' is already quantized; AWQ needs a full-precision model");
        l.weight[name] = load(full + ".weight", {out, in});
        store.release(full + ".weight");
        if (store.contains(full + ".bias"))
            l.bias[name] = load(full + ".bias", {out});
    }
    if (c.qkNorm) { // read only: the output copies them unchanged from the store
        l.qNorm = load(p + "self_attn.q_norm.weight", {c.headDim});
        l.kNorm = load(p + "self_attn.k_norm.weight", {c.headDim});
    }
    store.release(p + "input_layernorm.weight");
    store.release(p + mlpNormName(c) + ".weight");
    return l;
}

LayerContext makeLayerContext(const ModelConfig &config, int64_t seqLen)
{
    LayerContext ctx;
    ctx.config = &config;
    RotaryEmbedding rotary(config);
    std::tie(ctx.cos, ctx.sin) = rotary.cosSin(0, seqLen);
    ctx.cos = ctx.cos.clone();
    ctx.sin = ctx.sin.clone();
    // Attention scores and probabilities of one slice stay under ~256 MiB.
    const int64_t perBlock = config.numHeads * seqLen * seqLen * 4 * 2;
    ctx.blocksPerSlice = std::max<int64_t>(1, (256ll << 20) / std::max<int64_t>(1, perBlock));
    return ctx;
}

at::Tensor attentionCore(const LayerContext &ctx, const at::Tensor &x1, const at::Tensor &wq, const at::Tensor &bq,
                         const at::Tensor &wk, const at::Tensor &bk, const at::Tensor &wv, const at::Tensor &bv,
                         const LayerWeights &layer)
{
    const ModelConfig &c = *ctx.config;
    return bySlices(x1, ctx.blocksPerSlice, [&](const at::Tensor &x) {
        const int64_t b = x.size(0), t = x.size(1);
        auto q = linear(x, wq, bq).view({b, t, c.numHeads, c.headDim});
        auto k = linear(x, wk, bk).view({b, t, c.numKvHeads, c.headDim});
        if (c.qkNorm) {
            AWQ_ASSERT(layer.qNorm.defined() && layer.kNorm.defined(), "qwen3 attention without q_norm / k_norm");
            q = rmsNorm(q, layer.qNorm, c.rmsNormEps);
            k = rmsNorm(k, layer.kNorm, c.rmsNormEps);
        }
        q = q.transpose(1, 2);
        k = k.transpose(1, 2);
        auto v = linear(x, wv, bv).view({b, t, c.numKvHeads, c.headDim}).transpose(1, 2);
        auto cos = ctx.cos.narrow(0, 0, t), sin = ctx.sin.narrow(0, 0, t);
        q = applyRotary(q, cos, sin);
        k = applyRotary(k, cos, sin);
        return causalAttention(q, k, v, attentionOptions(c, layer.index))
            .transpose(1, 2)
            .reshape({b, t, c.numHeads * c.headDim});
    });
}

at::Tensor attentionBlock(const LayerContext &ctx, const at::Tensor &x1, const at::Tensor &wq, const at::Tensor &bq,
                          const at::Tensor &wk, const at::Tensor &bk, const at::Tensor &wv, const at::Tensor &bv,
                          const at::Tensor &wo, const LayerWeights &layer)
{
    return at::linear(attentionCore(ctx, x1, wq, bq, wk, bk, wv, bv, layer), wo);
}

at::Tensor mlpCore(const LayerContext &ctx, const at::Tensor &y, const at::Tensor &wg, const at::Tensor &bg,
                   const at::Tensor &wu, const at::Tensor &bu)
{
    return gatedActivation(*ctx.config, linear(y, wg, bg), linear(y, wu, bu));
}

void divideNorm(const ModelConfig &config, at::Tensor &norm, const at::Tensor &s)
{
    if (config.normPlusOne)
        norm.add_(1.0).div_(s).sub_(1.0);
    else
        norm.div_(s);
}

CapturedInputs captureLayer(const LayerContext &ctx, const LayerWeights &l, const at::Tensor &x)
{
    const ModelConfig &c = *ctx.config;
    auto get = [&](const char *name) { return l.weight.at(name); };
    const Projections p = splitProjections(c, l.weight, l);
    CapturedInputs in;
    in.x1 = rmsNorm(x, l.inputNorm, c.rmsNormEps, c.normPlusOne);
    in.attn = attentionCore(ctx, in.x1, p.wq, p.bq, p.wk, p.bk, p.wv, p.bv, l);
    auto attnOut = linear(in.attn, get("self_attn.o_proj"), l.b("self_attn.o_proj"));
    auto h = x + (c.sandwichNorms ? rmsNorm(attnOut, l.attnOutNorm, c.rmsNormEps, c.normPlusOne) : attnOut);
    in.y = rmsNorm(h, l.postNorm, c.rmsNormEps, c.normPlusOne);
    in.act = mlpCore(ctx, in.y, p.wg, p.bg, p.wu, p.bu);
    auto mlpOut = linear(in.act, get("mlp.down_proj"), l.b("mlp.down_proj"));
    in.output = h + (c.sandwichNorms ? rmsNorm(mlpOut, l.mlpOutNorm, c.rmsNormEps, c.normPlusOne) : mlpOut);
    return in;
}

} // namespace awq
