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

std::string layerPrefix(int64_t layer)
{
    return "model.layers." + std::to_string(layer) + ".";
}

LayerWeights loadLayerWeights(const WeightStore &store, const ModelConfig &c, int64_t layer)
{
    const std::string p = layerPrefix(layer);
    const TensorTarget f32{at::kFloat, at::kCPU};
    const int64_t qOut = c.numHeads * c.headDim;
    LayerWeights l;
    l.index = layer;
    l.inputNorm = loadChecked(store, p + "input_layernorm.weight", {c.hiddenSize}, f32);
    l.postNorm = loadChecked(store, p + "post_attention_layernorm.weight", {c.hiddenSize}, f32);
    l.normDtype = toScalarType(store.info(p + "input_layernorm.weight").dtype);
    const std::map<std::string, std::pair<int64_t, int64_t>> shapes = {
        {"self_attn.q_proj", {qOut, c.hiddenSize}},         {"self_attn.k_proj", {c.kvDim(), c.hiddenSize}},
        {"self_attn.v_proj", {c.kvDim(), c.hiddenSize}},    {"self_attn.o_proj", {c.hiddenSize, qOut}},
        {"mlp.gate_proj", {c.intermediateSize, c.hiddenSize}}, {"mlp.up_proj", {c.intermediateSize, c.hiddenSize}},
        {"mlp.down_proj", {c.hiddenSize, c.intermediateSize}}};
    for (const auto &name : llamaLinearNames()) {
        const auto [out, in] = shapes.at(name);
        const std::string full = p + name;
        AWQ_CHECK(!store.contains(full + ".qweight"), InvalidArgument, store.folder().string(), ": '", full,
                  "' is already quantized; AWQ needs a full-precision model");
        l.weight[name] = loadChecked(store, full + ".weight", {out, in}, f32);
        store.release(full + ".weight");
        if (store.contains(full + ".bias"))
            l.bias[name] = loadChecked(store, full + ".bias", {out}, f32);
    }
    store.release(p + "input_layernorm.weight");
    store.release(p + "post_attention_layernorm.weight");
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
                         const at::Tensor &wk, const at::Tensor &bk, const at::Tensor &wv, const at::Tensor &bv)
{
    const ModelConfig &c = *ctx.config;
    return bySlices(x1, ctx.blocksPerSlice, [&](const at::Tensor &x) {
        const int64_t b = x.size(0), t = x.size(1);
        auto q = linear(x, wq, bq).view({b, t, c.numHeads, c.headDim}).transpose(1, 2);
        auto k = linear(x, wk, bk).view({b, t, c.numKvHeads, c.headDim}).transpose(1, 2);
        auto v = linear(x, wv, bv).view({b, t, c.numKvHeads, c.headDim}).transpose(1, 2);
        auto cos = ctx.cos.narrow(0, 0, t), sin = ctx.sin.narrow(0, 0, t);
        q = applyRotary(q, cos, sin);
        k = applyRotary(k, cos, sin);
        return causalAttention(q, k, v).transpose(1, 2).reshape({b, t, c.numHeads * c.headDim});
    });
}

at::Tensor attentionBlock(const LayerContext &ctx, const at::Tensor &x1, const at::Tensor &wq, const at::Tensor &bq,
                          const at::Tensor &wk, const at::Tensor &bk, const at::Tensor &wv, const at::Tensor &bv,
                          const at::Tensor &wo)
{
    return at::linear(attentionCore(ctx, x1, wq, bq, wk, bk, wv, bv), wo);
}

at::Tensor mlpCore(const at::Tensor &y, const at::Tensor &wg, const at::Tensor &bg, const at::Tensor &wu,
                   const at::Tensor &bu)
{
    return at::silu(linear(y, wg, bg)) * linear(y, wu, bu);
}

CapturedInputs captureLayer(const LayerContext &ctx, const LayerWeights &l, const at::Tensor &x)
{
    const ModelConfig &c = *ctx.config;
    auto get = [&](const char *name) { return l.weight.at(name); };
    CapturedInputs in;
    in.x1 = rmsNorm(x, l.inputNorm, c.rmsNormEps);
    in.attn = attentionCore(ctx, in.x1, get("self_attn.q_proj"), l.b("self_attn.q_proj"), get("self_attn.k_proj"),
                            l.b("self_attn.k_proj"), get("self_attn.v_proj"), l.b("self_attn.v_proj"));
    auto h = x + linear(in.attn, get("self_attn.o_proj"), l.b("self_attn.o_proj"));
    in.y = rmsNorm(h, l.postNorm, c.rmsNormEps);
    in.act = mlpCore(in.y, get("mlp.gate_proj"), l.b("mlp.gate_proj"), get("mlp.up_proj"), l.b("mlp.up_proj"));
    in.output = h + linear(in.act, get("mlp.down_proj"), l.b("mlp.down_proj"));
    return in;
}

} // namespace awq
