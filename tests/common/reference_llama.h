#pragma once
// A plain, loop-by-loop Llama reference in float64, written independently of the
// engine's tensor code, to check the engine's forward op by op.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/model/config.h"

namespace awq::test {

// x: [T, H] (double). Returns [T, H]. plusOne: gemma's norm, scaled by (1 + weight).
at::Tensor refRmsNorm(const at::Tensor &x, const at::Tensor &weight, double eps, bool plusOne = false);
// Inverse frequency of pair i, computed from the config (with linear / llama3 scaling).
double refInverseFrequency(const ModelConfig &config, int64_t i);
// x: [heads, T, D] at positions start..start+T-1. Returns the rotated [heads, T, D].
at::Tensor refRope(const at::Tensor &x, const ModelConfig &config, int64_t start);
// q: [H, T, D], k/v: [Hkv, S, D]; causal with queries at positions S-T..S-1. scale 0 means
// 1/sqrt(D); softcap > 0: scores -> softcap * tanh(scores / softcap); window > 0: a query at
// position p sees keys p - window + 1 .. p.
at::Tensor refAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale = 0,
                        double softcap = 0, int64_t window = 0);
// Full model logits [T, vocab] for one sequence, weights given by HF name (any dtype).
// Follows model_type: qwen3's per-head q/k norms; gemma's (1 + w) norms,
// sqrt(hidden)-scaled embeddings and tanh-GELU; gemma2's as gemma plus the post-attention,
// pre/post-feedforward norms, query_pre_attn_scalar, attention and final soft-capping and
// the sliding window on even layers (the numbers taken from the config); gemma3's as
// gemma2 plus (1 + w) q/k norms, the window on the config's sliding layers, which rotate
// with rope_local_base_freq unscaled; phi3's fused qkv_proj and gate_up_proj; the
// mixture-of-experts MLP of mixtral, qwen2_moe and qwen3_moe (refMoe). Weights are named
// as in a text model (a multimodal checkpoint's prefixes removed by the caller).
at::Tensor refLogits(const ModelConfig &config, const std::map<std::string, at::Tensor> &weights,
                     const std::vector<int64_t> &ids);
// The MLP of a mixture-of-experts layer (mixtral, qwen2_moe, qwen3_moe) over normed y
// [T, hidden] (double): every token through its top-k experts by softmax of the router
// logits (renormalised per config), plus qwen2_moe's gated shared expert. `get` returns a
// weight (double) by HF name, `layer` is "model.layers.N.".
at::Tensor refMoe(const ModelConfig &config, const at::Tensor &y, const std::function<at::Tensor(const std::string &)> &get,
                  const std::string &layer);

} // namespace awq::test
