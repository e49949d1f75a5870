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

void QuantOptions::validate(const ModelConfig &config) const
{
    const QuantizerSpec &q = quantizer;
    AWQ_CHECK(q.bits >= 2 && q.bits <= 8, InvalidArgument, "--w-bit must be between 2 and 8, got ", q.bits);
    AWQ_CHECK(q.groupSize > 0, InvalidArgument, "--group-size must be positive, got ", q.groupSize);
    const int64_t qOut = config.numHeads * config.headDim;
    for (int64_t in : {config.hiddenSize, qOut, config.intermediateSize})
        AWQ_CHECK(in % q.groupSize == 0, InvalidArgument, "--group-size ", q.groupSize,
                  " does not divide in_features ", in, " of this model (hidden ", config.hiddenSize,
                  ", attention ", qOut, ", intermediate ", config.intermediateSize, ")");
    AWQ_CHECK(version == "gemm" || version == "gemv", InvalidArgument, "--version must be gemm or gemv, got '",
              version, "'");
    if (format == OutputFormat::Packed) {
        AWQ_CHECK(q.bits == 4, InvalidArgument, "the AWQ checkpoint formats are 4-bit; w_bit ", q.bits,
                  " can only be written with --fake-quant (or --export-compatible)");
        AWQ_CHECK(q.zeroPoint, InvalidArgument,
                  "GEMM and GEMV checkpoints need zero points; symmetric quantization can only be written with "
                  "--fake-quant (or --export-compatible)");
        if (version == "gemm")
            for (int64_t out : {qOut, config.kvDim(), config.hiddenSize, config.intermediateSize})
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
    const std::vector<LinearSlot> &linears = config.arch().linears;
    for (const std::string &pattern : modulesToNotConvert) {
        const bool matches = std::any_of(linears.begin(), linears.end(), [&](const LinearSlot &l) {
            return excludedFromQuantization(l.name, {pattern});
        });
        if (!matches) {
            std::string known;
            for (const LinearSlot &l : linears)
                known += (known.empty() ? "" : ", ") + l.name;
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
