#pragma once
// Rotary position embeddings as Hugging Face Llama computes them ("rotate half"
// pairing of the first and second half of head_dim), with linear and llama3 scaling, and
// gemma3's second table for its sliding layers (ModelConfig::localRope).

#include <ATen/Tensor.h>

#include "awq/model/config.h"

namespace awq {

// Inverse frequencies [head_dim / 2] (float32) for a config, scaling applied; local: the
// sliding layers' table of a config with a local RoPE base (gemma3), which is unscaled.
at::Tensor ropeInverseFrequencies(const ModelConfig &config, bool local = false);

class RotaryEmbedding
{
public:
    explicit RotaryEmbedding(const ModelConfig &config, bool local = false);

    // cos and sin tables [length, head_dim] (float32) for positions start .. start+length-1.
    // Tables grow on demand; not thread-safe.
    std::pair<at::Tensor, at::Tensor> cosSin(int64_t start, int64_t length);

private:
    at::Tensor m_invFreq;
    at::Tensor m_cos, m_sin; // [cached positions, head_dim]
};

// x: [B, H, T, D]; cos/sin: [T, D]. Returns x·cos + rotate_half(x)·sin in x's dtype.
at::Tensor applyRotary(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin);

} // namespace awq
