// The benchmark's quality column: perplexity of each build the benchmark timed.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "awq/bench/bench_runner.h"
#include "awq/core/error.h"
#include "awq/eval/perplexity.h"
#include "awq/nn/reference_model.h"
#include "awq/runtime/decoder_model.h"
#include "awq/runtime/loaded_model.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq::bench {

std::vector<VariantPerplexity> measureVariantPerplexity(
    const BenchPlan &plan, const std::string &text, const std::string &textName, int64_t seqLen, int64_t maxWindows,
    const std::function<void(size_t variant, const Progress &)> &progress, const CancelToken &cancel)
{
    AWQ_CHECK(plan.syntheticShape.empty(), InvalidArgument,
              "perplexity is not measured on a synthetic model: its weights are random");
    const int previousThreads = at::get_num_threads();
    if (plan.threads > 0)
        at::set_num_threads(plan.threads);
    struct Restore {
        int threads;
        ~Restore() { at::set_num_threads(threads); }
    } restore{previousThreads};

    std::vector<VariantPerplexity> results;
    std::vector<int32_t> tokens;
    int64_t window = 0;
    for (size_t i = 0; i < plan.variants.size(); ++i) {
        cancel.throwIfCancelled();
        const Variant variant = plan.variants[i];
        const ProgressFn onProgress = [&progress, i](const Progress &p) {
            if (progress)
                progress(i, p);
        };
        LoadedModel loaded = loadModel(plan.modelFolder, {}, onProgress);
        if (tokens.empty()) {
            window = std::min<int64_t>(seqLen, loaded.config.maxPositionEmbeddings);
            tokens = loaded.tokenizer->encode(text);
            if (maxWindows > 0 && static_cast<int64_t>(tokens.size()) > window * maxWindows)
                tokens.resize(static_cast<size_t>(window * maxWindows));
        }
        convertModel(*loaded.model, variant, plan.groupSize, onProgress, cancel);
        ReferenceDecoder decoder(std::move(loaded.model));
        const PerplexityResult r = evaluatePerplexity(decoder, tokens, window, onProgress, cancel);
        results.push_back({variant, r.perplexity, r.seqLen, r.windows, textName, r.seconds});
    }
    return results;
}

} // namespace awq::bench
