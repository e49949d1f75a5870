#pragma once
// Next-token selection from logits: greedy, or temperature + top-k + top-p sampling,
// with a repetition penalty (as transformers applies it). Deterministic for a seed.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

namespace awq {

struct SamplingParams {
    double temperature = 0.0;       // <= 0: greedy
    int64_t topK = 0;               // 0: off
    double topP = 1.0;              // 1: off
    double repetitionPenalty = 1.0; // 1: off; > 1 discourages tokens already in the context
    uint64_t seed = 0;
    int64_t maxNewTokens = 128;
    std::vector<std::string> stopStrings;

    bool greedy() const { return temperature <= 0.0; }
    void validate() const; // throws Error(InvalidArgument) with the offending option named
};

class Sampler
{
public:
    explicit Sampler(SamplingParams params);
    // logits: [vocab] float32 (CPU or not). `context` holds every token so far (prompt
    // included) for the repetition penalty.
    int32_t sample(const at::Tensor &logits, const std::vector<int32_t> &context);

private:
    SamplingParams m_params;
    std::mt19937_64 m_rng;
    std::vector<float> m_buffer;
};

} // namespace awq
