#pragma once
// The sampling values a model's generation_config.json recommends (transformers'
// GenerationConfig: do_sample, temperature, top_p, top_k, min_p, repetition_penalty,
// max_new_tokens), for the chat window's "Model defaults". Torch-free, Qt-free.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "awq/chat/conversation.h"

namespace awq::chat {

struct GenerationDefaults
{
    std::optional<double> temperature, topP, minP, repetitionPenalty;
    std::optional<int64_t> topK, maxNewTokens;
    bool doSample = true; // false: greedy (temperature 0), as transformers does

    bool empty() const
    {
        return !temperature && !topP && !minP && !repetitionPenalty && !topK && !maxNewTokens && doSample;
    }
    // "temperature 0.8, top-p 0.95, repetition penalty 1.1, max new tokens 128"
    std::string describe() const;
};

// Reads <folder>/generation_config.json. Nothing when the file is absent; Error(Format)
// naming the file and the field when it is not JSON or a value has the wrong type or range.
std::optional<GenerationDefaults> readGenerationDefaults(const std::filesystem::path &folder);

// `settings` with the recommended values in place of its own (the others kept).
ChatSettings applyGenerationDefaults(ChatSettings settings, const GenerationDefaults &defaults);

} // namespace awq::chat
