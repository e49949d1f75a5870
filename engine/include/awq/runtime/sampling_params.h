#pragma once
// What a request asks of the sampler (awq/runtime/sampler.h). Torch-free: the UI, the
// chat settings and the server fill it in.

#include <cstdint>
#include <string>
#include <vector>

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

} // namespace awq
