#pragma once
// Progress of a quantization run, as the CLI's progress bar and the wizard's live view
// consume it. Events are emitted on the worker thread; handlers must be cheap.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace awq {

enum class QuantPhase {
    Loading,     // reading config, tokenizer, embeddings
    Calibrating, // building calibration blocks and the inputs of layer 0
    Capturing,   // layer i: full-precision forward recording each linear's input
    ScaleSearch, // layer i: searching the scales of one group
    ClipSearch,  // layer i: searching clipping thresholds
    Packing,     // layer i: final quantization and packing
    Writing,     // embeddings, head, config, tokenizer files, provenance; renaming into place
    Done,
};

const char *phaseName(QuantPhase phase); // "calibrating", "scale search", ...

// The outcome of one scale-search group ("self_attn.q_proj+k_proj+v_proj").
struct GroupLoss {
    int64_t layer = 0;
    std::string group;     // e.g. "q_proj,k_proj,v_proj"
    double fpLoss = 0;     // always 0; kept for symmetry in tables
    double rtnLoss = 0;    // output MSE with plain round-to-nearest (scales = 1)
    double awqLoss = 0;    // output MSE with the best scales (equals rtnLoss for the RTN method)
    double bestRatio = -1; // the grid ratio chosen; -1 when s = 1 was kept
    // max / median of the group's per-channel mean |x|: how salient the most salient
    // input channel is. AWQ has most to gain where this is large (outlier channels).
    double activationSpread = 0;
    // A per-expert group (each expert's up -> down) summarised over the layer's experts:
    // losses are means weighted by the tokens each expert received; `experts` of them were
    // searched, `unusedExperts` received no calibration token (kept at s = 1, not clipped).
    int64_t experts = 0;
    int64_t unusedExperts = 0;
};

struct QuantEvent {
    QuantPhase phase = QuantPhase::Loading;
    int64_t layer = -1;   // 0-based; -1 outside the layer loop
    int64_t layers = 0;
    std::string detail;   // "gate_proj,up_proj", "writing model.safetensors", ...
    double fraction = 0;  // overall, 0..1
    double elapsedSeconds = 0;
    double etaSeconds = -1; // -1 while unknown
    uint64_t rssBytes = 0;
    uint64_t peakRssBytes = 0;
    const GroupLoss *groupLoss = nullptr; // set once, when a group's search has finished
};

using QuantEventFn = std::function<void(const QuantEvent &)>;

} // namespace awq
