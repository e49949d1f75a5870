#pragma once
// The reference model of every supported architecture: embeddings, N decoder layers run
// by DecoderBlock (awq/nn/decoder_block.h), final norm, lm_head (tied to the embeddings or
// not). What the layers hold and what their tensors are called comes from the config's
// architecture description (awq/arch/architecture.h).
//
// Written with plain ATen ops so that it also runs under autograd (the demo-model trainer
// uses it) and on any device in any dtype. It is the oracle the fused CPU decoder is
// tested against. A ReferenceModel is used by one thread at a time. ReferenceDecoder
// (awq/runtime/decoder_model.h) runs it behind the decoder interface.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/core/progress.h"
#include "awq/model/config.h"
#include "awq/nn/decoder_block.h"
#include "awq/nn/linear.h"

namespace awq {

class KVCache;
class WeightStore;

class ReferenceModel
{
public:
    // Reads every weight from `store` (fp16/bf16 converted once to target.dtype).
    static std::unique_ptr<ReferenceModel> load(const WeightStore &store, const ModelConfig &config,
                                            const TensorTarget &target = {}, const ProgressFn &progress = {});
    // Builds a model over existing tensors named as in a HF checkpoint (no copies).
    static std::unique_ptr<ReferenceModel> fromTensors(const ModelConfig &config,
                                                   const std::map<std::string, at::Tensor> &tensors);
    // Builds a model from parts made elsewhere (synthetic benchmark models, tests).
    // lmHead may be the same tensor as embed (tied).
    static std::unique_ptr<ReferenceModel> fromParts(const ModelConfig &config, at::Tensor embed,
                                                 std::vector<DecoderLayer> layers, at::Tensor finalNorm,
                                                 at::Tensor lmHead);
    ~ReferenceModel();

    const ModelConfig &config() const { return m_config; }
    c10::ScalarType dtype() const { return m_embed.scalar_type(); }
    c10::Device device() const { return m_embed.device(); }
    std::string describe() const; // "llama, 22 layers, Float on cpu, linears ..."

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
    DecoderBlock &block() { return m_block; }

private:
    explicit ReferenceModel(const ModelConfig &config);
    ModelConfig m_config;
    at::Tensor m_embed;     // [vocab, hidden]
    at::Tensor m_finalNorm; // [hidden]
    at::Tensor m_lmHead;    // [vocab, hidden]; the same tensor as m_embed when tied
    std::vector<DecoderLayer> m_layers;
    DecoderBlock m_block;
};

} // namespace awq
