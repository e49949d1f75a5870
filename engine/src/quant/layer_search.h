#pragma once
// AWQ on one decoder layer (AWQ-SPEC §1.3 steps 4-5): search the scales of every scaling
// group on the original weights, fold them all in, then search and apply the clipping
// thresholds. Private to the quantizer; quantize_job.cpp drives it layer by layer.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/core/cancel.h"
#include "awq/quant/quant_options.h"
#include "awq/quant/quant_progress.h"
#include "llama_layer.h"

namespace awq {

struct LayerSearchSettings {
    QuantizerSpec quantizer;
    int nGrid = 20;
    bool duoScaling = true;
    bool identityCandidate = true;
    bool applyClip = true;
    int64_t clipSampleTokens = 512;
    int64_t maxSearchTokens = 0;     // tokens for the token-wise groups' loss; 0 = all
    at::Tensor searchBlocks;         // block indices for the attention group's loss
    std::vector<std::string> active; // linears to quantize and clip (modules_to_not_convert removed);
                                     // excluded ones are still searched and scaled with their group
};

struct LayerSearchHooks {
    // Before a group's search (done == nullptr) and after it (done set); `position` runs
    // from 0 to 1 over the layer's groups.
    std::function<void(const std::string &group, double position, const GroupLoss *done)> onGroup;
    std::function<void(const std::string &linear)> onClip;
};

struct SearchedGroup {
    GroupLoss loss;
    std::string prevOp; // "input_layernorm", "post_attention_layernorm" or a linear name
};

// Scales and clips `weights` in place (and divides the captured inputs by the scales).
// Returns the groups in search order.
std::vector<SearchedGroup> searchLayer(const LayerContext &ctx, LayerWeights &weights, CapturedInputs &inputs,
                                       const LayerSearchSettings &settings, const LayerSearchHooks &hooks,
                                       const CancelToken &cancel);

} // namespace awq
