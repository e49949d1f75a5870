#include "awq/quant/quant_options.h"

#include <algorithm>

#include "awq/core/error.h"
#include "awq/model/consistency.h"
#include "awq/model/config.h"

namespace awq {

const char *methodName(QuantMethod method)
{
    return method == QuantMethod::Awq ? "awq" : "rtn";
}

const char *outputFormatName(OutputFormat format)
{
    switch (format) {
    case OutputFormat::Packed: return "packed";
    case OutputFormat::ExportCompatible: return "export-compatible";
    case OutputFormat::FakeQuant: return "fake-quant";
    }
    return "?";
}

namespace {

// The first dense and the first mixture-of-experts layer (layers of one kind are alike).
std::vector<int64_t> representativeLayers(const ModelConfig &config)
{
    std::vector<int64_t> layers;
    bool dense = false, sparse = false;
    for (int64_t i = 0; i < config.numLayers; ++i) {
        bool &seen = config.isMoeLayer(i) ? sparse : dense;
        if (!seen)
            layers.push_back(i);
        seen = true;
    }
    return layers;
}

} // namespace

void QuantOptions::validate(const ModelConfig &config) const
{
    const QuantizerSpec &q = quantizer;
    AWQ_CHECK(q.bits >= 2 && q.bits <= 8, InvalidArgument, "--w-bit must be between 2 and 8, got ", q.bits);
    AWQ_CHECK(q.groupSize > 0, InvalidArgument, "--group-size must be positive, got ", q.groupSize);
    const int64_t qOut = config.numHeads * config.headDim;
    // Every in_features and out_features a quantized linear of this model has.
    std::vector<int64_t> ins, outs;
    for (int64_t layer : representativeLayers(config))
        for (const LayerTensor &t : layerTensors(config, layer))
            if (t.linear && !alwaysFullPrecision(t.linearRole)) {
                ins.push_back(t.inFeatures);
                outs.push_back(t.outFeatures);
            }
    for (int64_t in : ins)
        AWQ_CHECK(in % q.groupSize == 0, InvalidArgument, "--group-size ", q.groupSize,
                  " does not divide in_features ", in, " of this model (hidden ", config.hiddenSize,
                  ", attention ", qOut, ", intermediate ", config.intermediateSize,
                  config.moe.numExperts > 0 ? ", experts " + std::to_string(config.moe.expertIntermediateSize) : "",
                  ")");
    AWQ_CHECK(version == "gemm" || version == "gemv", InvalidArgument, "--version must be gemm or gemv, got '",
              version, "'");
    if (format == OutputFormat::Packed) {
        AWQ_CHECK(q.bits == 4, InvalidArgument, "the AWQ checkpoint formats are 4-bit; w_bit ", q.bits,
                  " can only be written with --fake-quant (or --export-compatible)");
        AWQ_CHECK(q.zeroPoint, InvalidArgument,
                  "GEMM and GEMV checkpoints need zero points; symmetric quantization can only be written with "
                  "--fake-quant (or --export-compatible)");
        if (version == "gemm")
            for (int64_t out : outs)
                AWQ_CHECK(out % 8 == 0, InvalidArgument, "GEMM packing needs out_features divisible by 8, got ", out);
        if (version == "gemv")
            AWQ_CHECK(q.groupSize == 32 || q.groupSize == 64 || q.groupSize >= 128, InvalidArgument,
                      "GEMV packing supports group sizes 32, 64 and >= 128, got ", q.groupSize);
    }
    AWQ_CHECK(format != OutputFormat::ExportCompatible || method == QuantMethod::Awq, InvalidArgument,
              "--export-compatible writes AWQ-scaled weights; it needs --method awq");
    AWQ_CHECK(nGrid >= 1 && nGrid <= 1000, InvalidArgument, "the scale grid must have 1..1000 points, got ", nGrid);
    AWQ_CHECK(clipSampleTokens > 0, InvalidArgument, "clip sample tokens must be positive");
    AWQ_CHECK(maxSearchTokens >= 0, InvalidArgument, "--max-search-tokens must be >= 0");
    AWQ_CHECK(calibration.nSamples > 0, InvalidArgument, "--n-samples must be positive, got ", calibration.nSamples);
    AWQ_CHECK(calibration.seqLen > 0, InvalidArgument, "--seq-len must be positive, got ", calibration.seqLen);
    AWQ_CHECK(calibration.seqLen <= config.maxPositionEmbeddings, InvalidArgument, "--seq-len ", calibration.seqLen,
              " exceeds the model's max_position_embeddings ", config.maxPositionEmbeddings);
    AWQ_CHECK(!outputFolder.empty(), InvalidArgument, "no output folder given (--out DIR)");
    // The relative names of every linear of one dense and one sparse layer; experts listed
    // once as "experts.N.w1" in the message.
    std::vector<std::string> names;
    std::string known;
    for (int64_t layer : representativeLayers(config))
        for (const LayerTensor &t : layerTensors(config, layer))
            if (t.linear && std::find(names.begin(), names.end(), t.relativeName) == names.end()) {
                names.push_back(t.relativeName);
                if (t.expert <= 0) {
                    std::string shown = t.relativeName;
                    if (t.expert == 0) // every routed expert's copy, as one entry
                        shown.replace(shown.find(".0.") + 1, 1, "N");
                    if (known.find(shown) == std::string::npos)
                        known += (known.empty() ? "" : ", ") + shown;
                }
            }
    for (const std::string &pattern : modulesToNotConvert) {
        const bool matches = std::any_of(names.begin(), names.end(),
                                         [&](const std::string &name) { return excludedFromQuantization(name, {pattern}); });
        if (!matches) {
            fail(ErrorCode::InvalidArgument, "modules not to convert: '", pattern,
                 "' matches none of a layer's linears (", known, ")");
        }
    }
}

} // namespace awq

#include "awq/quant/quant_progress.h"

namespace awq {

const char *phaseName(QuantPhase phase)
{
    switch (phase) {
    case QuantPhase::Loading: return "loading";
    case QuantPhase::Calibrating: return "calibrating";
    case QuantPhase::Capturing: return "capturing inputs";
    case QuantPhase::ScaleSearch: return "scale search";
    case QuantPhase::ClipSearch: return "clip search";
    case QuantPhase::Packing: return "packing";
    case QuantPhase::Writing: return "writing";
    case QuantPhase::Done: return "done";
    }
    return "?";
}

} // namespace awq
