#include "awq/quant/awq_search.h"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/quant/pseudo_quant.h"

namespace awq {

namespace {
constexpr int64_t kChunkRows = 4096; // rows per chunk of the float64 reductions
} // namespace

at::Tensor weightMean(const std::vector<at::Tensor> &weights, int64_t groupSize)
{
    AWQ_ASSERT(!weights.empty(), "a scaling group needs at least one weight");
    const int64_t k = weights.front().size(1);
    auto sum = at::zeros({k}, weights.front().options().dtype(at::kDouble)); // on the weights' device
    int64_t rows = 0;
    for (const auto &w : weights) {
        AWQ_ASSERT(w.dim() == 2 && w.size(1) == k, "group weights must share in_features, got ", w.sizes());
        auto groups = w.reshape({-1, groupSize}).abs();
        auto normed = groups / (std::get<0>(groups.max(1, /*keepdim=*/true)) + 1e-6);
        sum += normed.reshape({w.size(0), k}).sum(0, /*keepdim=*/false, at::kDouble);
        rows += w.size(0);
    }
    return (sum / static_cast<double>(rows)).to(at::kFloat);
}

at::Tensor activationMean(const at::Tensor &x)
{
    const int64_t k = x.size(-1);
    auto flat = x.reshape({-1, k});
    auto sum = at::zeros({k}, flat.options().dtype(at::kDouble));
    for (int64_t begin = 0; begin < flat.size(0); begin += kChunkRows) {
        const int64_t end = std::min(flat.size(0), begin + kChunkRows);
        sum += flat.slice(0, begin, end).abs().sum(0, /*keepdim=*/false, at::kDouble);
    }
    return (sum / static_cast<double>(std::max<int64_t>(1, flat.size(0)))).to(at::kFloat);
}

double outputMse(const at::Tensor &reference, const at::Tensor &output)
{
    AWQ_ASSERT(reference.sizes() == output.sizes(), "output shapes differ: ", reference.sizes(), " vs ",
               output.sizes());
    const double numel = static_cast<double>(reference.numel());
    return at::sub(reference, output).pow_(2).sum(at::kDouble).item<double>() / numel;
}

ScaleSearchResult searchScale(const std::vector<at::Tensor> &weights, const at::Tensor &xMean,
                              const at::Tensor &reference, const BlockFn &block, const ScaleSearchOptions &options,
                              const CancelToken &cancel)
{
    const QuantizerSpec &spec = options.quantizer;
    const at::Tensor wMean = weightMean(weights, spec.groupSize);
    const at::Tensor x = xMean.to(at::kFloat);

    // Loss of the block when every weight is replaced by Q(W·s)/s.
    auto lossWith = [&](const at::Tensor &s) {
        std::vector<at::Tensor> quantized;
        quantized.reserve(weights.size());
        for (const auto &w : weights)
            quantized.push_back(fakeQuantize(w * s, spec).div_(s));
        return outputMse(reference, block(quantized));
    };

    ScaleSearchResult result;
    result.rtnLoss = lossWith(at::ones_like(x));
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < options.nGrid; ++i) {
        cancel.throwIfCancelled();
        const double ratio = static_cast<double>(i) / options.nGrid;
        at::Tensor s = options.duoScaling ? (x.pow(ratio) / (wMean.pow(1.0 - ratio) + 1e-4)).clamp_min(1e-4)
                                          : x.pow(ratio).clamp_min(1e-4);
        s = s / std::sqrt(s.max().item<double>() * s.min().item<double>());
        s.masked_fill_(at::logical_not(at::isfinite(s)), 1.0);
        const double loss = lossWith(s);
        result.gridLosses.push_back(loss);
        if (loss < best) {
            best = loss;
            result.bestRatio = ratio;
            result.scales = s;
        }
    }
    AWQ_CHECK(result.scales.defined(), Format,
              "scale search: no grid point gave a finite loss; the model's activations or weights hold inf/NaN");
    result.bestLoss = best;
    if (options.identityCandidate && result.rtnLoss <= best) {
        result.scales = at::ones_like(x);
        result.bestRatio = -1;
        result.bestLoss = result.rtnLoss;
    }
    return result;
}

at::Tensor searchClip(const at::Tensor &w, const at::Tensor &x, const ClipSearchOptions &options,
                      const CancelToken &cancel)
{
    const QuantizerSpec &spec = options.quantizer;
    const int64_t n = w.size(0), k = w.size(1), g = spec.groupSize, groups = k / g;
    auto tokens = x.reshape({-1, k});
    const int64_t stride = std::max<int64_t>(1, tokens.size(0) / std::max<int64_t>(1, options.sampleTokens));
    auto sampled = tokens.slice(0, 0, tokens.size(0), stride);
    const int64_t t = sampled.size(0);
    // mean_t (x_t · Q(w) − x_t · w)² = dᵀ H d per (row, group) with d = Q(w) − w and
    // H = Σ_t x_t x_tᵀ / t over the group's g inputs: the same error AutoAWQ measures on the
    // sampled tokens, computed once per group instead of once per token and shrink step.
    auto xg = sampled.reshape({t, groups, g}).permute({1, 2, 0}).contiguous(); // [G, g, t]
    const at::Tensor gram = at::bmm(xg, xg.transpose(1, 2)).div_(static_cast<double>(t)); // [G, g, g]

    const int steps = static_cast<int>(options.maxShrink * options.nGrid);
    const int64_t batch = (n % 256 == 0) ? 256 : 64;
    auto result = at::empty({n, groups}, w.options().dtype(at::kFloat));
    for (int64_t begin = 0; begin < n; begin += batch) {
        cancel.throwIfCancelled();
        const int64_t end = std::min(n, begin + batch), nb = end - begin;
        auto wb = w.slice(0, begin, end).reshape({nb, groups, g});
        auto maxAbs = std::get<0>(wb.abs().max(-1, /*keepdim=*/true)); // [nb, G, 1]
        auto bestMax = maxAbs.clone();
        auto bestErr = at::full({nb, groups, 1}, std::numeric_limits<float>::infinity(), wb.options().dtype(at::kFloat));
        for (int i = 0; i < steps; ++i) {
            auto m = maxAbs * (1.0 - static_cast<double>(i) / options.nGrid);
            auto clipped = at::maximum(at::minimum(wb, m), -m);
            auto q = fakeQuantize(clipped.reshape({nb, k}), spec).reshape({nb, groups, g});
            auto d = (q - wb).permute({1, 0, 2});                             // [G, nb, g]
            auto err = (at::bmm(d, gram) * d).sum(-1).transpose(0, 1).unsqueeze(-1); // [nb, G, 1]
            auto better = err < bestErr;
            bestErr = at::where(better, err, bestErr);
            bestMax = at::where(better, m, bestMax);
        }
        result.slice(0, begin, end).copy_(bestMax.squeeze(-1));
    }
    return result;
}

void applyClip(at::Tensor &w, const at::Tensor &maxVal)
{
    const int64_t n = w.size(0), k = w.size(1), groups = maxVal.size(1);
    auto m = maxVal.unsqueeze(-1);
    auto clipped = at::maximum(at::minimum(w.reshape({n, groups, k / groups}), m), -m);
    w.copy_(clipped.reshape({n, k}));
}

} // namespace awq
