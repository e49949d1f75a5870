#include "awq/runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <ATen/ATen.h>

#include "awq/core/error.h"

namespace awq {

void SamplingParams::validate() const
{
    AWQ_CHECK(std::isfinite(temperature) && temperature >= 0.0, InvalidArgument,
              "temperature must be >= 0, got ", temperature);
    AWQ_CHECK(topK >= 0, InvalidArgument, "top-k must be >= 0, got ", topK);
    AWQ_CHECK(topP > 0.0 && topP <= 1.0, InvalidArgument, "top-p must be in (0, 1], got ", topP);
    AWQ_CHECK(minP >= 0.0 && minP <= 1.0, InvalidArgument, "min-p must be in [0, 1], got ", minP);
    AWQ_CHECK(std::isfinite(presencePenalty) && presencePenalty >= -2.0 && presencePenalty <= 2.0, InvalidArgument,
              "presence penalty must be in [-2, 2], got ", presencePenalty);
    AWQ_CHECK(std::isfinite(frequencyPenalty) && frequencyPenalty >= -2.0 && frequencyPenalty <= 2.0,
              InvalidArgument, "frequency penalty must be in [-2, 2], got ", frequencyPenalty);
    AWQ_CHECK(vocabLimit >= 0, InvalidArgument, "the vocabulary limit must be >= 0, got ", vocabLimit);
    AWQ_CHECK(repetitionPenalty > 0.0 && std::isfinite(repetitionPenalty), InvalidArgument,
              "repetition penalty must be > 0, got ", repetitionPenalty);
    AWQ_CHECK(maxNewTokens >= 1, InvalidArgument, "max new tokens must be >= 1, got ", maxNewTokens);
}

Sampler::Sampler(SamplingParams params) : m_params(std::move(params)), m_rng(m_params.seed)
{
    m_params.validate();
}

int32_t Sampler::sample(const at::Tensor &logitsIn, const std::vector<int32_t> &context, size_t generated)
{
    auto logits = logitsIn.to(at::kCPU, at::kFloat).contiguous();
    const int64_t vocab = m_params.vocabLimit > 0 ? std::min<int64_t>(m_params.vocabLimit, logits.numel())
                                                  : logits.numel();
    m_buffer.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + vocab);
    std::vector<float> &l = m_buffer;
    // NaN or +inf logits come from broken weights or an overflow; sorting or sampling them
    // is undefined, so generation stops with the reason (-inf is a legitimate mask).
    const auto bad = std::find_if(l.begin(), l.end(), [](float v) { return std::isnan(v) || v == INFINITY; });
    AWQ_CHECK(bad == l.end(), Format, "the model produced a ", std::isnan(*bad) ? "NaN" : "infinite",
              " logit (token ", bad - l.begin(),
              "): its weights hold NaN or infinite values, or its activations overflowed in this precision");

    if (m_params.repetitionPenalty != 1.0) {
        std::vector<bool> seen(static_cast<size_t>(vocab), false);
        for (int32_t id : context)
            if (id >= 0 && id < vocab && !seen[id]) {
                seen[id] = true;
                l[id] = l[id] > 0 ? l[id] / static_cast<float>(m_params.repetitionPenalty)
                                  : l[id] * static_cast<float>(m_params.repetitionPenalty);
            }
    }
    if ((m_params.presencePenalty != 0.0 || m_params.frequencyPenalty != 0.0) && generated > 0) {
        std::vector<int32_t> counts(static_cast<size_t>(vocab), 0);
        for (size_t i = context.size() - std::min(generated, context.size()); i < context.size(); ++i)
            if (context[i] >= 0 && context[i] < vocab)
                ++counts[static_cast<size_t>(context[i])];
        for (int64_t id = 0; id < vocab; ++id)
            if (const int32_t n = counts[static_cast<size_t>(id)])
                l[id] -= static_cast<float>(m_params.presencePenalty + m_params.frequencyPenalty * n);
    }
    if (m_params.greedy())
        return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());

    // Candidates sorted by logit, cut by top-k, then softmax with temperature, then top-p.
    std::vector<int32_t> order(static_cast<size_t>(vocab));
    std::iota(order.begin(), order.end(), 0);
    int64_t keep = (m_params.topK > 0) ? std::min<int64_t>(m_params.topK, vocab) : vocab;
    std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                      [&](int32_t a, int32_t b) { return l[a] > l[b]; });
    order.resize(static_cast<size_t>(keep));

    std::vector<double> probs(order.size());
    const double maxLogit = l[order.front()];
    double sum = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        probs[i] = std::exp((l[order[i]] - maxLogit) / m_params.temperature);
        sum += probs[i];
    }
    size_t cut = probs.size();
    if (m_params.minP > 0.0) { // relative to the top token (probs[0] is the largest)
        const double floor = m_params.minP * probs.front();
        size_t kept = 1;
        while (kept < probs.size() && probs[kept] >= floor)
            ++kept;
        for (size_t i = kept; i < probs.size(); ++i)
            sum -= probs[i];
        cut = kept;
    }
    if (m_params.topP < 1.0) {
        double cumulative = 0;
        for (size_t i = 0; i < cut; ++i) {
            cumulative += probs[i] / sum;
            if (cumulative >= m_params.topP) {
                cut = i + 1; // keep the token that crosses top_p, as transformers does
                break;
            }
        }
    }
    std::discrete_distribution<size_t> pick(probs.begin(), probs.begin() + static_cast<std::ptrdiff_t>(cut));
    return order[pick(m_rng)];
}

} // namespace awq
