#pragma once
// What a quantization run is asked to do: the method, the quantizer (bits, group size,
// zero point), the packing of the output, the calibration data and the search knobs.
// Defaults follow AutoAWQ (docs/awq-format.md §0.1) except where a CPU needs cheaper settings;
// those are marked "CPU default" and explained in docs/quality.md.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace awq {

struct ModelConfig;

enum class QuantMethod {
    Awq, // activation-aware scale search + clip search, then quantize (AutoAWQ)
    Rtn, // round-to-nearest with the same quantizer, no search: the baseline
};

enum class OutputFormat {
    Packed,           // int4 GEMM/GEMV tensors + quantization_config (AutoAWQ/transformers/vLLM load it)
    ExportCompatible, // AWQ-scaled and clipped weights in full precision (AutoAWQ export_compatible, for GGUF)
    FakeQuant,        // weights replaced by their dequantized values, full precision: evaluates any w_bit
};

const char *methodName(QuantMethod method);      // "awq" | "rtn"
const char *outputFormatName(OutputFormat format); // "packed" | "export-compatible" | "fake-quant"

// The group quantizer (docs/awq-format.md §1.8).
struct QuantizerSpec {
    int bits = 4;          // 2..8; the packed formats need 4
    int64_t groupSize = 128; // > 0, must divide every in_features
    bool zeroPoint = true; // false = symmetric
};

// Where calibration text comes from (docs/awq-format.md §1.1 semantics, see calibration.h).
struct CalibrationSource {
    enum class Kind {
        Builtin,   // resources/text/brown-calibration.txt (found by the caller, passed as `path`)
        TextFile,  // UTF-8 text; records are blank-line separated paragraphs, or lines when there are none
        Jsonl,     // one JSON object per line; the record is the string field `jsonField`
        Folder,    // every *.txt file in the folder (sorted by name), one record per file
    };
    Kind kind = Kind::Builtin;
    std::filesystem::path path;
    std::string jsonField = "text";
};

struct CalibrationOptions {
    CalibrationSource source;
    int64_t nSamples = 128; // records accepted (AutoAWQ max_calib_samples)
    // Block length; records longer than this are skipped (max_calib_seq_len). 0 = 512, or
    // max_position_embeddings when the model's context is shorter.
    int64_t seqLen = 0;
};

struct QuantOptions {
    std::filesystem::path modelFolder;
    std::filesystem::path outputFolder;
    bool overwrite = false; // replace an existing output folder (only once the new one is complete)

    QuantMethod method = QuantMethod::Awq;
    QuantizerSpec quantizer;
    std::string version = "gemm"; // packing: "gemm" | "gemv"
    OutputFormat format = OutputFormat::Packed;
    CalibrationOptions calibration;

    bool duoScaling = true;  // s = x_mean^r / w_mean^(1-r); false = x_mean^r (llm-awq)
    int nGrid = 20;          // scale ratios 0, 1/n, ..., (n-1)/n
    bool identityCandidate = true; // keep s = 1 when no grid scale beats it (not in AutoAWQ)
    bool applyClip = true;
    int64_t clipSampleTokens = 512; // tokens sampled for the clip search (AutoAWQ n_sample_token)
    // CPU default: the scale-search loss is measured on at most this many calibration
    // tokens; 0 = all of them, as AutoAWQ does on a GPU. The attention group uses whole
    // blocks spread evenly over the data; the MLP and o_proj groups, which act token by
    // token, an evenly strided subset of all tokens. x_mean, clipping and the next
    // layer's input always use every token.
    int64_t maxSearchTokens = 4096;
    std::vector<std::string> modulesToNotConvert; // substrings of layer-relative linear names
    int threads = 0; // CPU threads; 0 = all cores
    // Where capture, scale search and clip search run, layer by layer ("cpu", "cuda:N"): one
    // layer's float32 weights and the calibration activations live there; packing and writing
    // stay on the CPU. The same results as the CPU up to floating-point summation order.
    std::string device = "cpu";
    // Before the first layer, the estimated peak (model/memory_estimate.h, for the
    // calibration tokens actually used) is compared with memoryLimitBytes, or when that is 0
    // with the memory the machine has available (free RAM and swap, within a cgroup's
    // limit); a run that does not fit is refused with Error(OutOfMemory) instead of being
    // killed or thrashing part way. checkMemory = false skips the comparison.
    bool checkMemory = true;
    uint64_t memoryLimitBytes = 0;

    // Checks the options against the model (bits/format/version combinations, group size
    // dividing every in_features, paths). Throws Error(InvalidArgument) with the reason.
    void validate(const ModelConfig &config) const;
};

} // namespace awq
