#pragma once
// Next-token selection from logits: greedy, or temperature + top-k + top-p + min-p
// sampling, with a repetition penalty (as transformers applies it) and OpenAI's presence
// and frequency penalties over the generated tokens. Deterministic for a seed.

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
    double minP = 0.0;              // 0: off; drops tokens below minP x the top token's probability
    double repetitionPenalty = 1.0; // 1: off; > 1 discourages tokens already in the context
    // OpenAI's penalties, over the tokens generated so far (not the prompt):
    // logit -= presencePenalty * (count > 0) + frequencyPenalty * count. 0: off; -2..2.
    double presencePenalty = 0.0;
    double frequencyPenalty = 0.0;
    uint64_t seed = 0;
    // Ids at or past this limit are never chosen (0: no limit). Models pad their embedding
    // matrix past the tokenizer (vocab_size 152064 over 151665 tokens): those rows have no
    // text, so the generator limits sampling to the ids the tokenizer can decode.
    int64_t vocabLimit = 0;
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
    // included) for the repetition penalty; its last `generated` tokens are the reply so far
    // (for the presence and frequency penalties).
    int32_t sample(const at::Tensor &logits, const std::vector<int32_t> &context, size_t generated = 0);

private:
    SamplingParams m_params;
    std::mt19937_64 m_rng;
    std::vector<float> m_buffer;
};

} // namespace awq
