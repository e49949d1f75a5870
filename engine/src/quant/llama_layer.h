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

struct LayerWeights {
    int64_t index = 0;
    at::Tensor inputNorm, postNorm;     // [hidden], float32
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

// Reads layer `layer` from the store (shapes checked against the config), as float32.
LayerWeights loadLayerWeights(const WeightStore &store, const ModelConfig &config, int64_t layer);

// Rotary tables and sizes shared by every forward over calibration blocks of one length.
struct LayerContext {
    const ModelConfig *config = nullptr;
    at::Tensor cos, sin; // [seqLen, headDim]
    int64_t blocksPerSlice = 1; // blocks run together in one attention call (bounds memory)
};

LayerContext makeLayerContext(const ModelConfig &config, int64_t seqLen);

// x1: normed input [B, L, hidden] -> attention output before o_proj [B, L, heads*headDim].
at::Tensor attentionCore(const LayerContext &ctx, const at::Tensor &x1, const at::Tensor &wq, const at::Tensor &bq,
                         const at::Tensor &wk, const at::Tensor &bk, const at::Tensor &wv, const at::Tensor &bv);
// x1 -> o_proj(attention) [B, L, hidden].
at::Tensor attentionBlock(const LayerContext &ctx, const at::Tensor &x1, const at::Tensor &wq, const at::Tensor &bq,
                          const at::Tensor &wk, const at::Tensor &bk, const at::Tensor &wv, const at::Tensor &bv,
                          const at::Tensor &wo);
// y: normed input -> silu(gate(y)) * up(y) [B, L, intermediate].
at::Tensor mlpCore(const at::Tensor &y, const at::Tensor &wg, const at::Tensor &bg, const at::Tensor &wu,
                   const at::Tensor &bu);

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
