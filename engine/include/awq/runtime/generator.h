#pragma once
// Text generation: prefill the prompt, then decode one token at a time with a
// preallocated KV cache, streaming text through a callback. Runs on the caller's
// thread; checks the cancel token between tokens.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "awq/core/cancel.h"
#include "awq/runtime/sampling_params.h"

namespace awq {

class DecoderModel;
class Tokenizer;

struct GenerationRequest {
    std::vector<int32_t> promptIds; // already tokenized (with BOS if the model wants one)
    SamplingParams sampling;
    bool stopAtEos = true;
    // Further tokens that end the reply like EOS (a chat template's end-of-turn marker such
    // as <|im_end|> or <|eot_id|>, which decodes to no text a stop string could see).
    std::vector<int32_t> stopTokenIds;
};

enum class StopReason { Eos, StopString, MaxTokens, Callback, Cancelled, ContextFull };
const char *stopReasonName(StopReason reason);

struct GenerationResult {
    std::string text;                 // everything streamed
    std::vector<int32_t> tokens;      // generated ids (EOS excluded)
    StopReason stopReason = StopReason::MaxTokens;
    int64_t promptTokens = 0;
    double prefillSeconds = 0;        // prompt forward until the first token is chosen
    double decodeSeconds = 0;         // the remaining tokens
    double promptTokensPerSecond() const { return prefillSeconds > 0 ? promptTokens / prefillSeconds : 0; }
    double decodeTokensPerSecond() const;
};

// Receives each new piece of text (whole UTF-8 characters) and the token that
// completed it; returns false to stop generation.
using TextSink = std::function<bool(const std::string &text, int32_t token)>;

class Generator
{
public:
    // maxContext: the longest context in tokens (0: the model's max_position_embeddings).
    // The decoder's cache is sized for each request (prompt + what may be generated).
    Generator(DecoderModel &model, const Tokenizer &tokenizer, int64_t maxContext = 0);

    GenerationResult generate(const GenerationRequest &request, const TextSink &sink = {},
                              const CancelToken &cancel = {});
    int64_t maxContext() const { return m_maxContext; }

private:
    DecoderModel &m_model;
    const Tokenizer &m_tokenizer;
    int64_t m_maxContext;
};

} // namespace awq
