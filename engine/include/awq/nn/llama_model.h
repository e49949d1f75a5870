#pragma once
// The Llama-family decoder (llama, mistral, qwen2, qwen3, gemma): embeddings, N decoder
// layers (RMSNorm -> GQA attention with RoPE -> residual, RMSNorm -> gated MLP -> residual),
// final norm, lm_head (tied to the embeddings or not). The config's flags select the
// variants: per-head q/k RMSNorm (qwen3); (1 + w) norms, embeddings times sqrt(hidden)
// and a tanh-GELU MLP (gemma); gemma2 adds norms after attention and around the MLP,
// query_pre_attn_scalar, attention and final logit soft-capping and a sliding window on
// every other layer; phi3 stores q/k/v as one qkv_proj and gate/up as one gate_up_proj.
//
// The forward is written with plain ATen ops so that it also runs under autograd
// (the demo-model trainer uses it). A LlamaModel is used by one thread at a time.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/core/progress.h"
#include "awq/model/config.h"
#include "awq/nn/linear.h"
#include "awq/nn/rope.h"

namespace awq {

class KVCache;
class WeightStore;

struct DecoderLayer {
    at::Tensor inputNorm;         // [hidden]
    at::Tensor postAttentionNorm; // [hidden]
    std::unique_ptr<Linear> qProj, kProj, vProj, oProj;
    std::unique_ptr<Linear> gateProj, upProj, downProj;
    // config.fusedProjections (phi3): these instead of q/k/v and gate/up, which stay empty.
    std::unique_ptr<Linear> qkvProj;    // [hidden -> (heads + 2 kvHeads) * headDim], rows q; k; v
    std::unique_ptr<Linear> gateUpProj; // [hidden -> 2 * intermediate], rows gate; up
    at::Tensor qNorm, kNorm;      // [headDim], config.qkNorm only (qwen3)
    // config.sandwichNorms only (gemma2); postAttentionNorm then normalises the attention output.
    at::Tensor preFeedforwardNorm, postFeedforwardNorm; // [hidden]
};

struct AttentionOptions {
    double scale = 0.0;   // scores times scale; 0: 1/sqrt(D)
    double softcap = 0.0; // scores -> softcap * tanh(scores / softcap); 0: off
    int64_t window = 0;   // a query at position p sees keys p - window + 1 .. p; 0: all
};
// The options of layer `layer` of a model with `config`.
AttentionOptions attentionOptions(const ModelConfig &config, int64_t layer);

// Building blocks, exposed for the tests and the quantizer.
// plusOne: gemma's form, statistics and (1 + weight) in float32, then the input dtype.
at::Tensor rmsNorm(const at::Tensor &x, const at::Tensor &weight, double eps, bool plusOne = false);
// The config's MLP activation of gate, times up.
at::Tensor gatedActivation(const ModelConfig &config, const at::Tensor &gate, const at::Tensor &up);
// Embedding rows times sqrt(hidden_size) rounded to their dtype (gemma), else unchanged.
at::Tensor scaleEmbeddings(const ModelConfig &config, const at::Tensor &embedded);
// q: [B, H, T, D]; k, v: [B, Hkv, S, D] with S >= T; query i sits at absolute position
// S - T + i and sees keys 0 .. S - T + i. Returns [B, H, T, D].
at::Tensor causalAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                           const AttentionOptions &options = {});
// cap * tanh(x / cap), or x when cap is 0 (gemma2's soft-capping).
at::Tensor softcapped(const at::Tensor &x, double cap);

class LlamaModel
{
public:
    // Reads every weight from `store` (fp16/bf16 converted once to target.dtype).
    static std::unique_ptr<LlamaModel> load(const WeightStore &store, const ModelConfig &config,
                                            const TensorTarget &target = {}, const ProgressFn &progress = {});
    // Builds a model over existing tensors named as in a HF checkpoint (no copies).
    static std::unique_ptr<LlamaModel> fromTensors(const ModelConfig &config,
                                                   const std::map<std::string, at::Tensor> &tensors);
    // Builds a model from parts made elsewhere (synthetic benchmark models, tests).
    // lmHead may be the same tensor as embed (tied).
    static std::unique_ptr<LlamaModel> fromParts(const ModelConfig &config, at::Tensor embed,
                                                 std::vector<DecoderLayer> layers, at::Tensor finalNorm,
                                                 at::Tensor lmHead);
    ~LlamaModel();

    const ModelConfig &config() const { return m_config; }
    c10::ScalarType dtype() const { return m_embed.scalar_type(); }
    c10::Device device() const { return m_embed.device(); }
    std::string describe() const; // "llama, 22 layers, Float on cpu"

    // ids: [B, T] int64. With a cache, positions continue after cache->length() and the
    // cache advances by T. Returns logits [B, T, vocab] (float32), or [B, 1, vocab] for
    // the last position only when lastOnly is set (saves the lm_head over the prompt).
    at::Tensor forward(const at::Tensor &ids, KVCache *cache = nullptr, bool lastOnly = false);

    at::Tensor embed(const at::Tensor &ids) const;
    // One decoder layer over hidden [B, T, hidden] at absolute positions start..start+T-1.
    at::Tensor layerForward(int64_t layer, const at::Tensor &hidden, int64_t start, KVCache *cache);
    at::Tensor head(const at::Tensor &hidden) const; // final norm + lm_head -> float32 logits

    const at::Tensor &embedWeight() const { return m_embed; }
    const at::Tensor &finalNormWeight() const { return m_finalNorm; }
    const at::Tensor &lmHeadWeight() const { return m_lmHead; }
    const DecoderLayer &layer(int64_t i) const { return m_layers.at(static_cast<size_t>(i)); }
    DecoderLayer &layer(int64_t i) { return m_layers.at(static_cast<size_t>(i)); }
    RotaryEmbedding &rotary() { return m_rotary; }

private:
    explicit LlamaModel(const ModelConfig &config);
    ModelConfig m_config;
    at::Tensor m_embed;     // [vocab, hidden]
    at::Tensor m_finalNorm; // [hidden]
    at::Tensor m_lmHead;    // [vocab, hidden]; the same tensor as m_embed when tied
    std::vector<DecoderLayer> m_layers;
    RotaryEmbedding m_rotary;
};

} // namespace awq
