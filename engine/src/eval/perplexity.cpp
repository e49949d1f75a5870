#include "awq/eval/perplexity.h"

#include <chrono>
#include <cmath>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/nn/reference_model.h"
#include "awq/runtime/decoder_model.h"
#include "awq/runtime/loaded_model.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq {

PerplexityResult evaluatePerplexity(DecoderModel &model, const std::vector<int32_t> &tokens, int64_t seqLen,
                                    const ProgressFn &progress, const CancelToken &cancel)
{
    if (seqLen <= 0)
        seqLen = std::min<int64_t>(2048, model.config().maxPositionEmbeddings);
    AWQ_CHECK(seqLen >= 2, InvalidArgument, "the perplexity window must hold at least 2 tokens, got ", seqLen);
    const int64_t total = static_cast<int64_t>(tokens.size());
    const int64_t windows = total / seqLen;
    AWQ_CHECK(windows >= 1, InvalidArgument, "the text has ", total, " tokens, fewer than one window of ", seqLen,
              " tokens; use a longer text or a shorter window (--seqlen)");

    c10::InferenceMode inference;
    // score() runs a window through the decoder's context: one sequence of seqLen positions.
    if (model.batch() != 1 || model.maxSeqLen() < seqLen)
        model.reset(1, seqLen);
    const auto start = std::chrono::steady_clock::now();
    PerplexityResult result;
    result.windows = windows;
    result.seqLen = seqLen;
    result.tokens = total;
    const std::vector<int64_t> ids(tokens.begin(), tokens.end());
    auto all = at::tensor(ids, at::kLong);
    double nllSum = 0;
    for (int64_t w = 0; w < windows; ++w) {
        cancel.throwIfCancelled();
        auto window = all.narrow(0, w * seqLen, seqLen).unsqueeze(0);
        auto logits = model.score(window); // [1, seqLen, vocab] float32
        auto shiftLogits = logits[0].narrow(0, 0, seqLen - 1);
        auto labels = window[0].narrow(0, 1, seqLen - 1).to(shiftLogits.device());
        const double meanCe = at::cross_entropy_loss(shiftLogits, labels).item<double>();
        result.windowNll.push_back(meanCe);
        nllSum += meanCe * static_cast<double>(seqLen);
        if (progress)
            progress({"perplexity", w + 1, windows,
                      "window " + std::to_string(w + 1) + "/" + std::to_string(windows) + ": running ppl "
                          + std::to_string(std::exp(nllSum / static_cast<double>((w + 1) * seqLen)))});
    }
    result.perplexity = std::exp(nllSum / static_cast<double>(windows * seqLen));
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

PerplexityResult evaluatePerplexity(DecoderModel &model, const Tokenizer &tokenizer, const std::string &text,
                                    int64_t seqLen, const ProgressFn &progress, const CancelToken &cancel)
{
    return evaluatePerplexity(model, tokenizer.encode(text), seqLen, progress, cancel);
}

PerplexityResult folderPerplexity(const std::filesystem::path &folder, const std::string &text, int64_t maxSeqLen,
                                  int64_t maxWindows, const ProgressFn &progress, const CancelToken &cancel)
{
    LoadedModel loaded = loadModel(folder);
    cancel.throwIfCancelled();
    const int64_t window = std::min<int64_t>(maxSeqLen, loaded.config.maxPositionEmbeddings);
    std::vector<int32_t> tokens = loaded.tokenizer->encode(text);
    if (maxWindows > 0 && static_cast<int64_t>(tokens.size()) > maxWindows * window)
        tokens.resize(static_cast<size_t>(maxWindows * window));
    ReferenceDecoder decoder(std::move(loaded.model));
    return evaluatePerplexity(decoder, tokens, window, progress, cancel);
}

double unigramPerplexity(const std::vector<int32_t> &trainTokens, const std::vector<int32_t> &evalTokens,
                         int64_t vocabSize, int64_t seqLen)
{
    AWQ_CHECK(vocabSize > 0 && seqLen >= 2, InvalidArgument, "unigram baseline needs a vocabulary and seqLen >= 2");
    std::vector<double> counts(static_cast<size_t>(vocabSize), 1.0); // add-one smoothing
    for (int32_t id : trainTokens)
        if (id >= 0 && id < vocabSize)
            counts[static_cast<size_t>(id)] += 1.0;
    const double total = static_cast<double>(trainTokens.size()) + static_cast<double>(vocabSize);
    const int64_t windows = static_cast<int64_t>(evalTokens.size()) / seqLen;
    AWQ_CHECK(windows >= 1, InvalidArgument, "the text is shorter than one window of ", seqLen, " tokens");
    double nll = 0;
    int64_t scored = 0;
    for (int64_t w = 0; w < windows; ++w)
        for (int64_t t = 1; t < seqLen; ++t) {
            const int32_t id = evalTokens[static_cast<size_t>(w * seqLen + t)];
            nll -= std::log(counts[static_cast<size_t>(id)] / total);
            ++scored;
        }
    return std::exp(nll / static_cast<double>(scored));
}

} // namespace awq
