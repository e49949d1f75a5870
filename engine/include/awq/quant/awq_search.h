#pragma once
// The two searches of AWQ (docs/awq-format.md §1.5 and §1.7), written over plain tensors so that
// they do not depend on a model architecture: the caller says which weights form a
// group and how to run the block whose output measures the loss.

#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/core/cancel.h"
#include "awq/quant/quant_options.h"

namespace awq {

// Runs the inspected block with the given weights (same order and shapes as the group's
// weights) on the search input and returns its output.
using BlockFn = std::function<at::Tensor(const std::vector<at::Tensor> &weights)>;

struct ScaleSearchOptions {
    QuantizerSpec quantizer;
    int nGrid = 20;
    bool duoScaling = true;
    // Keep s = 1 (plain round-to-nearest) when no grid point beats it. AutoAWQ's duo grid
    // never tries s = 1 (at r = 0 it is 1/w_mean), so it can pick scales that are worse
    // than none; llm-awq's x-only grid starts at s = 1. See docs/quality.md.
    bool identityCandidate = true;
};

struct ScaleSearchResult {
    at::Tensor scales;     // float32 [K]: multiply the group's input columns, divide the previous op
    double bestRatio = -1; // the grid ratio that won; -1 when s = 1 (identity) won
    double rtnLoss = 0;    // loss with scales = 1 (plain round-to-nearest)
    double bestLoss = 0;   // loss with `scales`
    std::vector<double> gridLosses; // loss per ratio, for plots and tests
};

// Per-input-channel weight statistic w_mean [K]: |W| normalised by each quantization
// group's max (+1e-6), averaged over the output rows of all the group's weights.
at::Tensor weightMean(const std::vector<at::Tensor> &weights, int64_t groupSize);
// Per-channel mean of |x| over all leading dims, accumulated in float64 chunks.
at::Tensor activationMean(const at::Tensor &x);

// Mean squared error between two outputs, accumulated in float64.
double outputMse(const at::Tensor &reference, const at::Tensor &output);

// weights: the group's [N_j, K] float32 weights (unchanged on return). xMean: [K].
// reference: the block's output with the original weights. For every ratio r of the
// grid, s = normalise(x_mean^r / (w_mean^(1-r) + 1e-4)) (inf/NaN -> 1), the block is run
// with W_j <- Q(W_j * s) / s and the loss is the output MSE; the smallest strictly wins
// (with identityCandidate, s = 1 wins unless a grid point is strictly better).
// Throws Error(Format) when no grid point gives a finite loss (the data holds inf/NaN).
ScaleSearchResult searchScale(const std::vector<at::Tensor> &weights, const at::Tensor &xMean,
                              const at::Tensor &reference, const BlockFn &block, const ScaleSearchOptions &options,
                              const CancelToken &cancel = {});

struct ClipSearchOptions {
    QuantizerSpec quantizer;
    int nGrid = 20;
    double maxShrink = 0.5;   // shrink factors 1, 1 - 1/nGrid, ... while < maxShrink * nGrid steps
    int64_t sampleTokens = 512;
};

// w: [N, K] float32; x: [..., K] the linear's (already scaled) input. Returns the clip
// threshold per (row, group), float32 [N, K/g]: the shrink of max|w| that minimises the
// mean over sampled tokens of (Σ_group x·Q(clamp(w)) − Σ_group x·w)².
at::Tensor searchClip(const at::Tensor &w, const at::Tensor &x, const ClipSearchOptions &options,
                      const CancelToken &cancel = {});
// W <- clamp(W, -maxVal, +maxVal) per (row, group), in place.
void applyClip(at::Tensor &w, const at::Tensor &maxVal);

} // namespace awq
