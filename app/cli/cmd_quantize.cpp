// awq quantize MODEL --out DIR: AWQ (or RTN) quantization to an AutoAWQ-compatible checkpoint.

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "awq/core/cancel.h"
#include "awq/core/error.h"
#include "awq/model/model_info.h"
#include "awq/quant/quantize_job.h"
#include "awq/runtime/resources.h"
#include "cli_args.h"
#include "commands.h"

namespace awq::cli {

namespace {

std::string formatDuration(double seconds)
{
    if (seconds < 0)
        return "?";
    const long s = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

// A one-line progress bar on a terminal; one line per event otherwise (logs, CI).
class ProgressPrinter
{
public:
    explicit ProgressPrinter(bool terminal) : m_terminal(terminal) {}

    void operator()(const QuantEvent &e)
    {
        if (e.groupLoss) {
            const GroupLoss &g = *e.groupLoss;
            const double gain = g.rtnLoss > 0 ? 100.0 * (1.0 - g.awqLoss / g.rtnLoss) : 0.0;
            clearLine();
            char ratio[64];
            if (g.experts > 0)
                std::snprintf(ratio, sizeof ratio, "one per expert, %lld experts", static_cast<long long>(g.experts));
            else
                std::snprintf(ratio, sizeof ratio, g.bestRatio < 0 ? "none (s = 1)" : "%.2f", g.bestRatio);
            std::fprintf(stderr, "layer %lld %-22s RTN loss %.4g -> AWQ %.4g (%.1f%% lower, ratio %s, max/median |x| %.1f)\n",
                         static_cast<long long>(g.layer), g.group.c_str(), g.rtnLoss, g.awqLoss, gain, ratio,
                         g.activationSpread);
            if (g.unusedExperts > 0)
                std::fprintf(stderr, "layer %lld %-22s %lld of %lld experts received no calibration token: rounded to "
                                     "nearest, unscaled and unclipped\n",
                             static_cast<long long>(g.layer), g.group.c_str(), static_cast<long long>(g.unusedExperts),
                             static_cast<long long>(g.experts + g.unusedExperts));
        }
        char line[256];
        std::snprintf(line, sizeof line, "%5.1f%% %-14s %s | elapsed %s, ETA %s | RSS %s (peak %s)",
                      100.0 * e.fraction, phaseName(e.phase), e.detail.c_str(),
                      formatDuration(e.elapsedSeconds).c_str(), formatDuration(e.etaSeconds).c_str(),
                      formatBytes(e.rssBytes).c_str(), formatBytes(e.peakRssBytes).c_str());
        if (m_terminal) {
            const int width = 24;
            const int filled = static_cast<int>(e.fraction * width + 0.5);
            std::fprintf(stderr, "\r[%s%s] %-110.110s", std::string(filled, '#').c_str(),
                         std::string(width - filled, '.').c_str(), line);
            m_dirty = true;
        } else {
            std::fprintf(stderr, "%s\n", line);
        }
        std::fflush(stderr);
    }
    void finish() { clearLine(); }

private:
    void clearLine()
    {
        if (m_terminal && m_dirty) {
            std::fprintf(stderr, "\n");
            m_dirty = false;
        }
    }
    bool m_terminal;
    bool m_dirty = false;
};

} // namespace

int runQuantize(int argc, char **argv, int first)
{
    ArgParser args("awq quantize",
                   "Quantize a full-precision Hugging Face model folder with AWQ (or round-to-nearest) and write a "
                   "checkpoint that AutoAWQ, transformers and vLLM load (quant_method \"awq\"). The output appears "
                   "only when complete; Ctrl+C cancels and leaves nothing behind.");
    args.positional("MODEL", "a full-precision model folder (llama, mistral, qwen2)");
    args.option("out", "DIR", "output folder (must not exist or be empty, unless --overwrite)");
    args.flag("overwrite", "replace an existing output folder once the new one is complete");
    args.option("method", "awq|rtn", "activation-aware search, or plain round-to-nearest", "awq");
    args.option("w-bit", "N", "bits per weight (2..8; packed checkpoints need 4)", "4");
    args.option("group-size", "N", "weights per quantization group", "128");
    args.flag("zero-point", "asymmetric quantization with zero points (the default)");
    args.flag("symmetric", "symmetric quantization, no zero points (needs --fake-quant or --export-compatible)");
    args.option("version", "gemm|gemv", "packing: gemm (vLLM, transformers) or gemv (AutoAWQ)", "gemm");
    args.option("calib", "SOURCE",
                "calibration data: 'builtin', a .txt file, a .jsonl file, or a folder of .txt files", "builtin");
    args.option("calib-field", "NAME", "the text field of a JSONL calibration file", "text");
    args.option("n-samples", "N", "calibration records used", "128");
    args.option("seq-len", "L", "calibration block length in tokens; 0 = 512, or the model's context if shorter", "0");
    args.option("max-search-tokens", "N",
                "tokens the scale-search loss is measured on (CPU default; 0 = all, as AutoAWQ)",
                std::to_string(QuantOptions{}.maxSearchTokens));
    args.flag("no-clip", "skip the clipping search");
    args.flag("no-duo-scaling", "scale by activations only (llm-awq's original formula)");
    args.flag("autoawq-grid", "search exactly AutoAWQ's grid (by default s = 1 is kept when no grid scale beats it)");
    args.option("modules-to-not-convert", "NAME", "keep linears whose name contains NAME in full precision", "",
                true);
    args.flag("export-compatible", "write AWQ-scaled and clipped full-precision weights (for GGUF converters)");
    args.flag("fake-quant", "write the dequantized weights in full precision (evaluate any --w-bit)");
    args.option("threads", "N", "CPU threads; 0 = all cores", "0");
    args.option("device", "ID", "where capture, scale and clip search run, layer by layer: cpu, or cuda:N", "cpu");
    args.option("memory-limit", "GIB",
                "refuse to start when the estimated peak exceeds this many GiB (0 = the memory available)", "0");
    args.flag("no-memory-check", "start even when the estimated peak exceeds the memory available");
    if (!args.parse(argc, argv, first)) {
        std::cout << args.help();
        return 0;
    }
    AWQ_CHECK(args.has("out"), InvalidArgument, "--out DIR is required (see --help)");
    AWQ_CHECK(!(args.has("zero-point") && args.has("symmetric")), InvalidArgument,
              "--zero-point and --symmetric exclude each other");
    AWQ_CHECK(!(args.has("export-compatible") && args.has("fake-quant")), InvalidArgument,
              "--export-compatible and --fake-quant exclude each other");

    QuantOptions o;
    o.modelFolder = args.positionalValue("MODEL");
    o.outputFolder = args.get("out");
    o.overwrite = args.has("overwrite");
    const std::string method = args.get("method");
    AWQ_CHECK(method == "awq" || method == "rtn", InvalidArgument, "--method must be awq or rtn, got '", method, "'");
    o.method = method == "awq" ? QuantMethod::Awq : QuantMethod::Rtn;
    o.quantizer.bits = static_cast<int>(args.getInt("w-bit", 2, 8));
    o.quantizer.groupSize = args.getInt("group-size", 1, 1 << 20);
    o.quantizer.zeroPoint = !args.has("symmetric");
    o.version = args.get("version");
    o.format = args.has("export-compatible") ? OutputFormat::ExportCompatible
               : args.has("fake-quant")      ? OutputFormat::FakeQuant
                                             : OutputFormat::Packed;
    const std::string calib = args.get("calib");
    CalibrationSource &src = o.calibration.source;
    if (calib == "builtin") {
        src.kind = CalibrationSource::Kind::Builtin;
        src.path = findData(kCalibrationTextPath);
        AWQ_CHECK(!src.path.empty(), NotFound, "the built-in calibration text (", kCalibrationTextPath,
                  ") was not found in any data folder; set AWQ_STUDIO_DATA or pass --calib FILE");
    } else {
        src.path = calib;
        const std::string ext = src.path.extension().string();
        src.kind = std::filesystem::is_directory(src.path) ? CalibrationSource::Kind::Folder
                   : (ext == ".jsonl" || ext == ".json")  ? CalibrationSource::Kind::Jsonl
                                                          : CalibrationSource::Kind::TextFile;
    }
    src.jsonField = args.get("calib-field");
    o.calibration.nSamples = args.getInt("n-samples", 1, 1 << 24);
    o.calibration.seqLen = args.getInt("seq-len", 0, 1 << 20);
    o.maxSearchTokens = args.getInt("max-search-tokens", 0, int64_t(1) << 40);
    o.applyClip = !args.has("no-clip");
    o.duoScaling = !args.has("no-duo-scaling");
    o.identityCandidate = !args.has("autoawq-grid");
    for (const auto &m : args.getAll("modules-to-not-convert"))
        if (!m.empty())
            o.modulesToNotConvert.push_back(m);
    o.threads = static_cast<int>(args.getInt("threads", 0, 1024));
    o.device = args.get("device");
    o.memoryLimitBytes = static_cast<uint64_t>(args.getDouble("memory-limit", 0, 1 << 20) * double(1ull << 30));
    o.checkMemory = !args.has("no-memory-check");

    CancelToken cancel;
    cancelOnInterrupt(cancel);
    ProgressPrinter printer(::isatty(STDERR_FILENO) != 0);
    const QuantizeReport r = quantizeModel(o, [&](const QuantEvent &e) { printer(e); }, cancel);
    printer.finish();

    double rtn = 0, awq = 0;
    for (const auto &g : r.groupLosses) {
        rtn += g.rtnLoss;
        awq += g.awqLoss;
    }
    std::printf("wrote %s (%s of weights) in %s; peak RSS %s\n", r.outputFolder.c_str(),
                formatBytes(r.outputBytes).c_str(), formatDuration(r.seconds).c_str(),
                formatBytes(r.peakRssBytes).c_str());
    if (r.calibrationBlocks > 0)
        std::printf("calibration: %lld blocks, %lld tokens (scale search on %lld); summed group loss RTN %.5g -> "
                    "AWQ %.5g\n",
                    static_cast<long long>(r.calibrationBlocks), static_cast<long long>(r.calibrationTokens),
                    static_cast<long long>(r.searchTokens), rtn, awq);
    if (r.unusedExperts > 0)
        std::printf("experts: %lld per-expert groups received no calibration token (rounded to nearest; see "
                    "unused_experts in %s)\n",
                    static_cast<long long>(r.unusedExperts), kProvenanceFile);
    return 0;
}

} // namespace awq::cli
