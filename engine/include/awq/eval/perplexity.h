#pragma once
// Perplexity as AutoAWQ computes it (AWQ-SPEC §6): the text is tokenized once,
// cut into non-overlapping windows of `seqLen` tokens (remainder dropped, no context
// carried over); per window the mean cross-entropy of positions 1..seqLen-1 is taken
// and PPL = exp(Σ window_mean · seqLen / (windows · seqLen)).

#include <cstdint>
#include <string>
#include <vector>

#include "awq/core/cancel.h"
#include "awq/core/progress.h"

namespace awq {

class LlamaModel;
class Tokenizer;

struct PerplexityResult {
    double perplexity = 0;
    int64_t windows = 0;
    int64_t seqLen = 0;
    int64_t tokens = 0;       // tokens in the text
    double seconds = 0;
    std::vector<double> windowNll; // mean cross-entropy per window
};

// seqLen 0: min(2048, max_position_embeddings). Throws Error(InvalidArgument) when the
// text holds fewer than seqLen tokens (the message says how many it has).
PerplexityResult evaluatePerplexity(LlamaModel &model, const std::vector<int32_t> &tokens, int64_t seqLen = 0,
                                    const ProgressFn &progress = {}, const CancelToken &cancel = {});
PerplexityResult evaluatePerplexity(LlamaModel &model, const Tokenizer &tokenizer, const std::string &text,
                                    int64_t seqLen = 0, const ProgressFn &progress = {},
                                    const CancelToken &cancel = {});

// The perplexity of a unigram model (token frequencies counted on `trainTokens`,
// add-one smoothed over `vocabSize`) on the tokens the windows above score: the
// baseline a trained model must beat by far.
double unigramPerplexity(const std::vector<int32_t> &trainTokens, const std::vector<int32_t> &evalTokens,
                         int64_t vocabSize, int64_t seqLen);

} // namespace awq
