#pragma once
// One decoder layer of any supported architecture, and the reference implementation of
// its forward (plain ATen ops, so it also runs under autograd for the trainer and on any
// device). The layer holds its linears and norms by role (awq/arch/architecture.h); what
// a role is called in a checkpoint, and which roles an architecture has, is the
// description's business. The block is composed the same way for every architecture:
//
//   x = norm[Input](h);  a = o(attention(q, k, v of x));  a = norm[AttnOut](a) if present
//   h = h + a;  y = norm[PreMlp](h);  m = down(act(gate(y)) * up(y));  m = norm[MlpOut](m) if present
//   return h + m
//
// In a mixture-of-experts layer m is the routed experts' MLPs instead: softmax over the
// router's logits, each token's top-k experts (weights renormalised when the config says
// so), each expert run on its tokens, plus a shared expert times sigmoid(shared gate).
//
// with per-head norm[QHead]/norm[KHead] before RoPE where present, stacked roles (Qkv,
// GateUp) split by rows, and the config's attention scale, soft-capping, and each layer's
// window and RoPE table (its AttentionKind: gemma2's and gemma3's local and global layers).
// The quantizer runs these same functions with recording or candidate linears (AutoAWQ's
// forward hooks and module2inspect): there is no other copy of the block.

#include <array>
#include <memory>
#include <vector>
#include <optional>

#include <ATen/Tensor.h>

#include "awq/arch/architecture.h"
#include "awq/model/config.h"
#include "awq/nn/linear.h"
#include "awq/nn/rope.h"

namespace awq {

class KVCache;

using LinearsByRole = std::array<std::unique_ptr<Linear>, kLinearRoleCount>;

struct DecoderLayer {
    LinearsByRole linears;                        // the layer's own (LinearId::expert == kNoExpert)
    std::vector<LinearsByRole> experts;           // MoE layers: routed expert e's MLP
    LinearsByRole sharedExpert;                   // qwen2_moe: the shared expert's MLP
    std::array<at::Tensor, kNormRoleCount> norms; // undefined where the architecture has none

    Linear *linear(const LinearId &id) const;
    std::unique_ptr<Linear> &slot(const LinearId &id); // grows `experts` as needed
    bool moe() const { return linear(LinearRole::Router) != nullptr; }
    const at::Tensor &norm(NormRole role) const { return norms[static_cast<size_t>(role)]; }
    at::Tensor &norm(NormRole role) { return norms[static_cast<size_t>(role)]; }
    bool has(NormRole role) const { return norm(role).defined(); }
};

struct AttentionOptions {
    double scale = 0.0;   // scores times scale; 0: 1/sqrt(D)
    double softcap = 0.0; // scores -> softcap * tanh(scores / softcap); 0: off
    int64_t window = 0;   // a query at position p sees keys p - window + 1 .. p; 0: all
};
// The options of layer `layer` of a model with `config`.
AttentionOptions attentionOptions(const ModelConfig &config, int64_t layer);

// Building blocks, exposed for the tests.
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
// fp16/bf16 widened to float32 for reductions, as transformers does; float64 stays.
at::Tensor widened(const at::Tensor &x);

// The reference forward of one layer. Holds the rotary tables (grown on demand); used by
// one thread at a time.
class DecoderBlock
{
public:
    explicit DecoderBlock(const ModelConfig &config);

    const ModelConfig &config() const { return m_config; }
    // The layer's norm `role` applied to x (plusOne per the architecture).
    at::Tensor norm(const DecoderLayer &layer, NormRole role, const at::Tensor &x) const;
    // Normed input x [B, T, hidden] at absolute positions start.. -> o_proj's output
    // [B, T, hidden] (before an AttnOut norm). With a cache, k/v are appended to it (the
    // caller advances it once all layers ran).
    at::Tensor attention(const DecoderLayer &layer, int64_t index, const at::Tensor &x, int64_t start,
                         KVCache *cache);
    // Normed input y [B, T, hidden] -> down_proj's output (before an MlpOut norm); the
    // experts' weighted sum in a MoE layer.
    at::Tensor mlp(const DecoderLayer &layer, const at::Tensor &y) const;
    // The whole layer over hidden [B, T, hidden].
    at::Tensor forward(const DecoderLayer &layer, int64_t index, const at::Tensor &hidden, int64_t start,
                       KVCache *cache);

private:
    // One gated MLP (a dense layer's, an expert's) of `width` over rows x.
    at::Tensor gatedMlp(const LinearsByRole &linears, const at::Tensor &x, int64_t width) const;
    at::Tensor mixtureOfExperts(const DecoderLayer &layer, const at::Tensor &y) const;

    ModelConfig m_config;
    bool m_plusOne = false;
    RotaryEmbedding m_rotary;
    std::optional<RotaryEmbedding> m_localRotary; // the sliding layers' table (ModelConfig::localRope)
};

} // namespace awq
