#pragma once
// One BOS rule for every entry point that tokenizes plain text for a model (awq generate,
// awq perplexity, the chat window when the model has no chat template): the model's own
// default, which Tokenizer::addBosByDefault() reports (add_bos_token in
// tokenizer_config.json, else whether tokenizer.json's post-processor puts a BOS first,
// else true for tokenizer.model), unless the user overrides it (--bos / --no-bos).
// A chat template writes bos_token itself, so templated prompts never get one from here.

#include <cstdint>
#include <string>
#include <vector>

namespace awq {

class Tokenizer;

enum class BosMode {
    ModelDefault, // as the model's tokenizer files say
    Add,          // --bos
    Omit,         // --no-bos
};

// Whether `mode` puts the BOS token first for this tokenizer (never when it has none).
bool addsBos(const Tokenizer &tokenizer, BosMode mode);
// Text -> ids with BOS first when addsBos(tokenizer, mode).
std::vector<int32_t> encodeText(const Tokenizer &tokenizer, const std::string &text,
                                BosMode mode = BosMode::ModelDefault);

} // namespace awq
