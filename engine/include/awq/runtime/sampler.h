#pragma once
// Next-token selection from logits: greedy, or temperature + top-k + top-p + min-p
// sampling, with a repetition penalty (as transformers applies it) and OpenAI's presence
// and frequency penalties over the generated tokens. Deterministic for a seed.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/runtime/sampling_params.h"

namespace awq {

class Sampler
{
public:
    explicit Sampler(SamplingParams params);
    // logits: [vocab] float32 (CPU or not). `context` holds every token so far (prompt
    // included) for the repetition penalty; its last `generated` tokens are the reply so far
    // (for the presence and frequency penalties).
    int32_t sample(const at::Tensor &logits, const std::vector<int32_t> &context, size_t generated = 0);

private:
    SamplingParams m_params;
    std::mt19937_64 m_rng;
    std::vector<float> m_buffer;
};

} // namespace awq
