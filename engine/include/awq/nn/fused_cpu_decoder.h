#pragma once
// FusedCpuDecoder: the CPU inference backend of the decoder interface
// (awq/runtime/decoder_model.h), for every supported architecture.
//
// - q/k/v are stacked into one linear (one kernel call, x read once), gate/up into one,
//   with SiLU(gate)·up computed in one pass over its output;
// - RMSNorm, RoPE (from a precomputed cos/sin table), the KV-cache write, the residual
//   adds and decode attention are plain loops over preallocated buffers;
// - the KV cache and every buffer are sized for (batch, maxSeqLen) by reset(), so a
//   decode step (T = 1) allocates no tensor storage at all.
// Prefill (T > 1) uses the same buffers when they are large enough and ATen for the
// causal attention over the prompt.
//
// The block is composed as DecoderBlock::forward composes it (awq/nn/decoder_block.h):
// the norms a layer has by role (per-head q/k norms, gemma2's output norms), (1 + w) norms
// and scaled embeddings from the description, soft-capping (attention through a plain loop
// then), and each layer's sliding window and RoPE table from the config. Float32 on the CPU only. The ReferenceModel
// stays the oracle (tst_fused_llama compares the two). Not thread-safe; one thread drives it.

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/model/config.h"
#include "awq/nn/linear.h"
#include "awq/runtime/decoder_model.h"

namespace awq {

class ReferenceModel;

// How the fused decoder holds int4 linears stored in the GEMM packing: as stored (the
// benchmark compares the packings), or repacked to GEMV in memory (chat and generate: the
// GEMV kernel is 2-3x faster for decode and as fast for prefill on the CPU).
enum class Int4Layout { AsStored, Gemv };

class FusedCpuDecoder final : public DecoderModel
{
public:
    // Takes the model's weights (its q/k/v and gate/up linears are released once
    // stacked) and sizes the cache for (batch, maxSeqLen); maxSeqLen 0 means the
    // model's max_position_embeddings. Throws Error(UnsupportedModel) for a model that is not
    // float32 on the CPU.
    FusedCpuDecoder(std::unique_ptr<ReferenceModel> model, int64_t batch = 1, int64_t maxSeqLen = 0,
               Int4Layout layout = Int4Layout::AsStored);
    ~FusedCpuDecoder() override;

    const ModelConfig &config() const override { return m_config; }
    std::string device() const override { return "cpu"; }
    // Reallocates the cache and buffers (and forgets the context).
    void reset(int64_t batch, int64_t maxSeqLen) override;
    // Forgets the context, keeps the allocation.
    void clear() { m_length = 0; }
    // Drops cached positions from `length` on.
    void truncate(int64_t length) override;

    int64_t batch() const override { return m_batch; }
    int64_t maxSeqLen() const override { return m_maxSeqLen; }
    int64_t length() const override { return m_length; } // positions already in the cache

    // ids [batch, T] (int64, T >= 1): runs the T positions after length() and returns the
    // logits of the last one, [batch, vocab] float32, a view of an internal buffer that
    // the next call overwrites. Throws Error(InvalidArgument) when the batch differs or
    // the context would exceed maxSeqLen (naming both).
    at::Tensor prefill(const at::Tensor &ids) override;
    at::Tensor score(const at::Tensor &ids) override;
    DecoderMemory memory() const override;

    uint64_t weightBytes() const;   // every linear, norms, embeddings, lm_head
    uint64_t tokenWeightBytes() const; // what one decode step reads per sequence (DecoderMemory)
    uint64_t kvCacheBytes() const;
    uint64_t bufferBytes() const;   // activations workspace
    std::string describe() const override; // "llama, 22 layers, linears int4 gemv g128 [...]"

private:
    struct Layer;
    // Activations of `rows` = batch * T positions.
    struct Buffers {
        int64_t rows = 0;
        at::Tensor hidden, normed, qkv, attn, attnOut, gateUp, act, mlpOut;
    };
    Buffers makeBuffers(int64_t rows) const;
    // Embeds ids and runs every layer (the context advances by T); the buffers used are
    // m_decode's when they fit, else `scratch`'s.
    Buffers *runLayers(const at::Tensor &ids, Buffers &scratch);
    void head(const float *hidden, int64_t rows, int64_t stride, at::Tensor &normed, at::Tensor &logits);
    void layerStep(Layer &layer, int64_t layerIndex, Buffers &buf, int64_t t);
    void attention(const Layer &layer, int64_t layerIndex, Buffers &buf, int64_t t);

    ModelConfig m_config;
    bool m_repackedGemm = false; // Int4Layout::Gemv repacked at least one GEMM linear
    at::Tensor m_embed, m_finalNorm;
    std::unique_ptr<Linear> m_lmHead;
    std::vector<Layer> m_layers;
    at::Tensor m_cos, m_sin;          // [maxSeqLen, headDim]
    at::Tensor m_localCos, m_localSin; // the sliding layers' table where it differs (ModelConfig::localRope)
    at::Tensor m_keys;                // [layers, batch, kvHeads, headDim, maxSeqLen]: transposed
    at::Tensor m_values;              // [layers, batch, kvHeads, maxSeqLen, headDim]
    int64_t m_batch = 0, m_maxSeqLen = 0, m_length = 0;
    Buffers m_decode;                 // rows = batch, reused by every decode step
    at::Tensor m_scores;              // [batch, heads, maxSeqLen] decode attention scratch
    at::Tensor m_lastHidden, m_logits; // [batch, hidden], [batch, vocab]
};

} // namespace awq
