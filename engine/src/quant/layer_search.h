#pragma once
// AWQ on one decoder layer (docs/awq-format.md, "The algorithm"): search the scales of
// every scaling group of the architecture's description on the original weights, fold
// them all in, then search and apply the clipping thresholds. The loss of a group is
// measured on the reference block (DecoderBlock's attention or MLP, or the group's own
// linear) with candidate weights. Private to the quantizer; quantize_job.cpp drives it
// layer by layer.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/core/cancel.h"
#include "awq/nn/decoder_block.h"
#include "awq/quant/quant_options.h"
#include "awq/quant/quant_progress.h"
#include "layer_capture.h"
#include "layer_weights.h"

namespace awq {

struct LayerSearchSettings {
    QuantizerSpec quantizer;
    int nGrid = 20;
    bool duoScaling = true;
    bool identityCandidate = true;
    bool applyClip = true;
    int64_t clipSampleTokens = 512;
    int64_t maxSearchTokens = 0;  // tokens for the token-wise groups' loss; 0 = all
    at::Tensor searchBlocks;      // block indices for the attention group's loss
    int64_t sliceBlocks = 1;      // blocks per attention call (blocksPerSlice)
    // Linears that get quantized (modules_to_not_convert and the router removed), by
    // relative name ("self_attn.q_proj", "mlp.experts.3.up_proj").
    std::vector<std::string> active;
};

struct LayerSearchHooks {
    // Before a group's search (done == nullptr) and after it (done set); `position` runs
    // from 0 to 1 over the layer's groups.
    std::function<void(const std::string &group, double position, const GroupLoss *done)> onGroup;
    std::function<void(const std::string &linear)> onClip;
};

// One expert's share of a per-expert group.
struct ExpertLoss {
    int32_t expert = 0;
    int64_t tokens = 0; // calibration tokens routed to it
    double rtnLoss = 0, awqLoss = 0, bestRatio = -1;
};

struct SearchedGroup {
    GroupLoss loss;     // per-expert groups: the summary over the layer's experts
    std::string prevOp; // the relative name of the norm or linear 1/s was folded into ("experts.*.w3")
    std::vector<ExpertLoss> experts; // per-expert groups: each expert that received tokens
};

// Scales and clips `weights` in place (and divides the captured inputs by the scales).
// Returns the groups in search order.
std::vector<SearchedGroup> searchLayer(DecoderBlock &block, LayerWeights &weights, CapturedInputs &inputs,
                                       const LayerSearchSettings &settings, const LayerSearchHooks &hooks,
                                       const CancelToken &cancel);

} // namespace awq
