#pragma once
// A plain, loop-by-loop Llama reference in float64, written independently of the
// engine's tensor code, to check the engine's forward op by op.

#include <map>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/model/config.h"

namespace awq::test {

// x: [T, H] (double). Returns [T, H].
at::Tensor refRmsNorm(const at::Tensor &x, const at::Tensor &weight, double eps);
// Inverse frequency of pair i, computed from the config (with linear / llama3 scaling).
double refInverseFrequency(const ModelConfig &config, int64_t i);
// x: [heads, T, D] at positions start..start+T-1. Returns the rotated [heads, T, D].
at::Tensor refRope(const at::Tensor &x, const ModelConfig &config, int64_t start);
// q: [H, T, D], k/v: [Hkv, S, D]; causal with queries at positions S-T..S-1.
at::Tensor refAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v);
// Full model logits [T, vocab] for one sequence, weights given by HF name (any dtype).
at::Tensor refLogits(const ModelConfig &config, const std::map<std::string, at::Tensor> &weights,
                     const std::vector<int64_t> &ids);

} // namespace awq::test
