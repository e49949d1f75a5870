#pragma once
// One Llama-family decoder layer as the quantizer sees it: its weights as float32
// tensors it may scale and clip in place, and the forward pieces the searches run
// (the attention block from the normed input to o_proj's output, the MLP block).
// Private to the quantizer; the inference model lives in nn/llama_model.h.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/model/config.h"

namespace awq {

class WeightStore;

// Layer-relative linear names, in checkpoint order.
const std::vector<std::string> &llamaLinearNames();
// The linears of `config`'s checkpoints: llamaLinearNames(), or phi3's qkv_proj, o_proj,
// gate_up_proj, down_proj.
const std::vector<std::string> &linearNames(const ModelConfig &config);

struct LayerWeights {
    int64_t index = 0;
    // [hidden], float32 (gemma: the stored w of a (1 + w) norm). postNorm feeds the MLP:
    // post_attention_layernorm, or gemma2's pre_feedforward_layernorm (mlpNormName()).
    at::Tensor inputNorm, postNorm;
    at::Tensor qNorm, kNorm;            // [headDim] float32, qwen3 only; never scaled
    at::Tensor attnOutNorm, mlpOutNorm; // gemma2's post_attention / post_feedforward norms; never scaled
    std::map<std::string, at::Tensor> weight; // name -> [out, in] float32
    std::map<std::string, at::Tensor> bias;   // name -> [out] float32 (only those present)
    c10::ScalarType normDtype = at::kHalf;    // dtype the norms are stored in

    at::Tensor &w(const std::string &name) { return weight.at(name); }
    at::Tensor b(const std::string &name) const
    {
        auto it = bias.find(name);
        return it == bias.end() ? at::Tensor() : it->second;
    }
};

// "model.layers.<i>."
std::string layerPrefix(int64_t layer);
// The norm in front of the MLP: "post_attention_layernorm" or (gemma2) "pre_feedforward_layernorm".
const char *mlpNormName(const ModelConfig &config);

// Throws Error(Format) naming the tensor and its file when `t` holds a NaN or an infinity.
void requireFinite(const WeightStore &store, const std::string &name, const at::Tensor &t);

// Reads layer `layer` from the store (shapes checked against the config, values finite), as
// float32.
LayerWeights loadLayerWeights(const WeightStore &store, const ModelConfig &config, int64_t layer);

// The q/k/v and gate/up weights and biases of a layer whose linears are `w` (name -> [out, in];
// biases from `layer`): phi3's fused qkv_proj / gate_up_proj split into views by rows.
struct Projections {
    at::Tensor wq, bq, wk, bk, wv, bv, wg, bg, wu, bu;
};
Projections splitProjections(const ModelConfig &config, const std::map<std::string, at::Tensor> &w,
                             const LayerWeights &layer);

// Rotary tables and sizes shared by every forward over calibration blocks of one length.
struct LayerContext {
    const ModelConfig *config = nullptr;
    at::Tensor cos, sin; // [seqLen, headDim]
    int64_t blocksPerSlice = 1; // blocks run together in one attention call (bounds memory)
};

LayerContext makeLayerContext(const ModelConfig &config, int64_t seqLen);

// x1: normed input [B, L, hidden] -> attention output before o_proj [B, L, heads*headDim].
// `layer` gives the per-head q/k norms (qwen3) and the layer's attention options (gemma2).
at::Tensor attentionCore(const LayerContext &ctx, const at::Tensor &x1, const at::Tensor &wq, const at::Tensor &bq,
                         const at::Tensor &wk, const at::Tensor &bk, const at::Tensor &wv, const at::Tensor &bv,
                         const LayerWeights &layer);
// x1 -> o_proj(attention) [B, L, hidden] (before gemma2's post-attention norm, as AutoAWQ inspects self_attn).
at::Tensor attentionBlock(const LayerContext &ctx, const at::Tensor &x1, const at::Tensor &wq, const at::Tensor &bq,
                          const at::Tensor &wk, const at::Tensor &bk, const at::Tensor &wv, const at::Tensor &bv,
                          const at::Tensor &wo, const LayerWeights &layer);
// y: normed input -> act(gate(y)) * up(y) [B, L, intermediate] (silu, or tanh-GELU for gemma).
at::Tensor mlpCore(const LayerContext &ctx, const at::Tensor &y, const at::Tensor &wg, const at::Tensor &bg,
                   const at::Tensor &wu, const at::Tensor &bu);
// Folds 1/s into a norm weight: w / s, or gemma's (1 + w) / s - 1 (AWQ-SPEC §1.6).
void divideNorm(const ModelConfig &config, at::Tensor &norm, const at::Tensor &s);

// The inputs each linear sees in a full-precision forward over x [B, L, hidden], and the
// layer's output (the next layer's input).
struct CapturedInputs {
    at::Tensor x1;   // input of q/k/v  [B, L, hidden]
    at::Tensor attn; // input of o_proj [B, L, heads*headDim]
    at::Tensor y;    // input of gate/up [B, L, hidden]
    at::Tensor act;  // input of down   [B, L, intermediate]
    at::Tensor output;
};

CapturedInputs captureLayer(const LayerContext &ctx, const LayerWeights &weights, const at::Tensor &x);

} // namespace awq
