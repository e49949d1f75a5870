#pragma once
// A whole quantization run over a Hugging Face model folder (docs/awq-format.md §1.3): calibrate,
// then layer by layer — only one decoder layer's weights in memory, read from the mmap'ed
// input — capture the linears' inputs, search scales and clips, quantize, pack and write;
// finally the untouched tensors, config.json with quantization_config, tokenizer files and
// a provenance file. Everything is written into a temporary sibling folder that is renamed
// into place only when complete: a failure or a cancel leaves no output and never touches
// an existing folder.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "awq/core/cancel.h"
#include "awq/quant/quant_options.h"
#include "awq/quant/quant_progress.h"

namespace awq {

struct QuantizeReport {
    std::filesystem::path outputFolder;
    int64_t layers = 0;
    int64_t calibrationBlocks = 0;
    int64_t calibrationTokens = 0;
    int64_t searchTokens = 0;
    std::vector<GroupLoss> groupLosses; // in layer order
    double seconds = 0;
    double calibrationSeconds = 0;
    double searchSeconds = 0; // scale + clip search
    double writeSeconds = 0;
    uint64_t peakRssBytes = 0;
    uint64_t outputBytes = 0; // size of the weight files written
    // MoE: per-expert groups whose expert received no calibration token (summed over
    // layers): those experts keep s = 1 and are rounded to nearest without clipping.
    int64_t unusedExperts = 0;
};

// The name of the provenance file written next to config.json.
inline constexpr const char *kProvenanceFile = "awq_studio_quant.json";

// Throws Error (InvalidArgument, NotFound, Format, UnsupportedModel, Io) naming the file
// and the problem, or Error(Cancelled); in every such case nothing is left behind.
QuantizeReport quantizeModel(const QuantOptions &options, const QuantEventFn &onEvent = {},
                             const CancelToken &cancel = {});

} // namespace awq
