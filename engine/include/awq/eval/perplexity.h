#pragma once
// Perplexity as AutoAWQ computes it (docs/awq-format.md §6): the text is tokenized once,
// cut into non-overlapping windows of `seqLen` tokens (remainder dropped, no context
// carried over); per window the mean cross-entropy of positions 1..seqLen-1 is taken
// and PPL = exp(Σ window_mean · seqLen / (windows · seqLen)). Runs through the decoder
// interface: `awq perplexity` scores on the reference decoder (exact, any device), the
// benchmark's quality column on the build it timed.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "awq/core/cancel.h"
#include "awq/core/progress.h"

namespace awq {

class DecoderModel;
class Tokenizer;

struct PerplexityResult {
    double perplexity = 0;
    int64_t windows = 0;
    int64_t seqLen = 0;
    int64_t tokens = 0;       // tokens in the text
    double seconds = 0;
    std::vector<double> windowNll; // mean cross-entropy per window
};

// seqLen 0: min(2048, max_position_embeddings). Resets the model to (1, seqLen) when its
// cache is smaller (the context is lost). Throws Error(InvalidArgument) when the
// text holds fewer than seqLen tokens (the message says how many it has).
PerplexityResult evaluatePerplexity(DecoderModel &model, const std::vector<int32_t> &tokens, int64_t seqLen = 0,
                                    const ProgressFn &progress = {}, const CancelToken &cancel = {});
PerplexityResult evaluatePerplexity(DecoderModel &model, const Tokenizer &tokenizer, const std::string &text,
                                    int64_t seqLen = 0, const ProgressFn &progress = {},
                                    const CancelToken &cancel = {});

// Loads the model folder (config, tokenizer, weights) and scores `text` on the reference
// decoder in windows of min(maxSeqLen, max_position_embeddings) tokens, at most
// `maxWindows` of them (0: all): the wizard's original-vs-quantized comparison.
PerplexityResult folderPerplexity(const std::filesystem::path &folder, const std::string &text, int64_t maxSeqLen,
                                  int64_t maxWindows = 0, const ProgressFn &progress = {},
                                  const CancelToken &cancel = {});

// The perplexity of a unigram model (token frequencies counted on `trainTokens`,
// add-one smoothed over `vocabSize`) on the tokens the windows above score: the
// baseline a trained model must beat by far.
double unigramPerplexity(const std::vector<int32_t> &trainTokens, const std::vector<int32_t> &evalTokens,
                         int64_t vocabSize, int64_t seqLen);

} // namespace awq
