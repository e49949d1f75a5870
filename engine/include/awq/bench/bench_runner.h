#pragma once
// The model benchmark, measured as AutoAWQ's benchmark measures it: for each build (FP32,
// int4 GEMM packing, int4 GEMV packing), batch size and prefill length, the time of the
// prefill forward and of each decode step on the fused CPU model (FusedCpuDecoder), giving
//   prefill tokens/s = batch * prefill length / prefill time
//   decode tokens/s  = batch / median decode-step time
// and the peak resident memory of the process during the timed runs.
//
// runBenchmark runs on the calling thread (a CLI's main thread or a UI worker); the
// results are plain values. Output: formatTable (AutoAWQ's columns), toJson (everything,
// for the dashboard), toCsv (one line per row).

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "awq/bench/bandwidth.h"
#include "awq/bench/kernel_bench.h"
#include "awq/bench/synthetic_model.h"
#include "awq/core/cancel.h"
#include "awq/core/progress.h"
#include "awq/model/config.h"

namespace awq::bench {

struct BenchPlan {
    std::filesystem::path modelFolder; // a model folder, or ...
    std::string syntheticShape;        // ... a named shape (syntheticShapeNames()); exactly one
    std::vector<Variant> variants = {Variant::Fp32, Variant::Gemm, Variant::Gemv};
    std::vector<int64_t> batchSizes = {1};
    std::vector<int64_t> prefillLengths = {32, 64, 128, 256, 512, 1024, 2048};
    int64_t decodeLength = 32; // decode steps per run (AutoAWQ's n_generate); 0: the prefill length
    int warmup = 1;            // untimed runs per row: the prefill and up to kWarmupDecodeSteps steps
    int repeats = 3;           // timed runs per row; the best one is reported
    int threads = 0;           // 0: keep LibTorch's thread count
    int64_t groupSize = 128;   // synthetic int4 builds and RTN builds of a full-precision folder
    uint64_t seed = 0;         // random weights and token ids
    bool checkMemory = true;   // refuse a build that would not fit in the available memory
    // "cpu" (the fused CPU decoder) or "cuda:N" (the CUDA decoder: the FP32 build runs in fp16,
    // int4 builds on the GPU kernels; builds are made in host memory, then uploaded).
    std::string device = "cpu";
};

// The Version column's name of a build on a device: FP32 on the CPU is FP16 on a GPU.
const char *variantLabel(Variant variant, const std::string &device);

inline constexpr int kWarmupDecodeSteps = 8;

struct BenchRow {
    Variant variant = Variant::Fp32;
    int64_t batch = 0;
    int64_t prefillLength = 0;
    int64_t decodeLength = 0;
    double prefillSeconds = 0;          // best of the repeats
    double prefillTokensPerSecond = 0;  // batch * prefillLength / prefillSeconds
    double decodeMedianStepSeconds = 0; // median step time of the best repeat
    double decodeMinStepSeconds = 0;    // fastest single step over all repeats
    double decodeTokensPerSecond = 0;   // batch / decodeMedianStepSeconds
    uint64_t peakRssBytes = 0;          // process high-water mark over the timed runs
    uint64_t weightBytes = 0;           // FusedCpuDecoder::weightBytes()
    uint64_t tokenWeightBytes = 0;      // what one decode step reads per sequence (DecoderMemory)
    uint64_t kvCacheBytes = 0;
    uint64_t bufferBytes = 0;
};

// The perplexity of one build on a held-out text (AutoAWQ's windowing), measured by the
// caller (the dashboard's quality column) on the build runBenchmark timed; never for a
// synthetic model, whose random weights make it meaningless.
struct VariantPerplexity {
    Variant variant = Variant::Fp32;
    double perplexity = 0;
    int64_t seqLen = 0;  // tokens per window
    int64_t windows = 0; // windows scored
    std::string text;    // the text's file name
    double seconds = 0;
};

// The perplexity of each of the plan's builds of its model folder (loaded and converted
// as runBenchmark makes them), on the same leading windows of `text`: at most maxWindows
// windows of min(seqLen, max_position_embeddings) tokens, on the reference decoder.
// progress(i, p) reports build i. Throws Error(InvalidArgument) for a synthetic plan.
std::vector<VariantPerplexity> measureVariantPerplexity(
    const BenchPlan &plan, const std::string &text, const std::string &textName, int64_t seqLen, int64_t maxWindows,
    const std::function<void(size_t variant, const Progress &)> &progress, const CancelToken &cancel);

// How one build was made and what it is.
struct VariantInfo {
    Variant variant = Variant::Fp32;
    std::string description; // FusedCpuDecoder::describe()
    std::string weights;     // where the weights came from (random, as stored, RTN at load, ...)
    double buildSeconds = 0;
    uint64_t weightBytes = 0;
};

struct MachineInfo {
    std::string cpuModel; // /proc/cpuinfo "model name"
    int cores = 0;        // logical CPUs
    int threads = 0;      // LibTorch intra-op threads used
    std::string isa;      // the int4 kernels' instruction set (QuantLinear::isa())
    std::string blas;     // blasDescription(): "OpenBLAS 0.3.21 (OpenMP)"; empty in older reports
    uint64_t memoryTotalBytes = 0;
    uint64_t memoryAvailableBytes = 0; // when the run started
    bool peakRssResettable = false;    // false: peak memory is the process-lifetime peak
};

struct BenchReport {
    BenchPlan plan;
    std::string model; // "synthetic tinyllama-1.1b (random weights)" or the folder
    ModelConfig config;
    MachineInfo machine;
    std::string date; // ISO 8601, UTC
    std::string awqVersion;
    std::vector<VariantInfo> variants;
    std::vector<BenchRow> rows;
    // Filled by the caller when asked for (awq bench --bandwidth / --kernels).
    BandwidthResult bandwidth;            // gbPerSecond 0: not measured
    std::vector<KernelBenchRow> kernelRows;
    std::vector<VariantPerplexity> perplexity; // empty: not measured
};

// The facts of this machine and process (threads as LibTorch has them now).
MachineInfo describeMachine();
// A report with no rows yet: date, version, machine (for runs of the kernel benchmark or
// the bandwidth measurement alone; runBenchmark starts from one too).
BenchReport newReport();

// Runs the plan: builds each variant once, then times every (batch, prefill length).
// Throws Error(InvalidArgument) for a bad plan (naming the field), Error(OutOfMemory)
// before building a variant that would not fit (naming the needed and available bytes),
// Error(Cancelled) when `cancel` is set (polled between forwards). Progress: stage
// "build"/"convert" while a variant is made, "bench" per timed run.
BenchReport runBenchmark(const BenchPlan &plan, const ProgressFn &progress = {}, const CancelToken &cancel = {});

// The memory a variant of the plan needs above what the process holds: its weights (or, if
// more, what loading a folder takes: a full-precision one is loaded in fp32) plus the more
// of what making the build holds besides (estimateBuildBytes) and the KV cache and
// activations of the row that needs the most (they come after the build is made). An upper
// bound of the peak: tst_bench checks it against the measured one.
struct MemoryNeed {
    uint64_t weightBytes = 0;
    uint64_t buildBytes = 0;
    uint64_t kvCacheBytes = 0;
    uint64_t activationBytes = 0;
    int64_t batch = 0, prefillLength = 0, decodeLength = 0; // that row
    // The allocator's and the threads' share on top: 5 % and 32 MiB.
    uint64_t total() const
    {
        const uint64_t held = weightBytes + std::max(buildBytes, kvCacheBytes + activationBytes);
        return held + held / 20 + (uint64_t(32) << 20);
    }
};
MemoryNeed estimatePlanMemory(const BenchPlan &plan, const ModelConfig &config, Variant variant);

// AutoAWQ's table (| Version | Batch Size | Prefill Length | Decode Length | Prefill
// tokens/s | Decode tokens/s | Memory (RAM) |) under a header naming the model, the
// machine, threads, ISA, warm-up and repeats; the kernel table and bandwidth when present.
std::string formatTable(const BenchReport &report);
// Every field: plan, machine, method, variants, rows, bandwidth, kernel rows, perplexity.
nlohmann::json toJson(const BenchReport &report);
// The report toJson wrote (schema "awq-studio/bench/1"; "perplexity" may be absent, as in
// files written before it existed): toJson(reportFromJson(toJson(r), ...)) == toJson(r).
// Throws Error(Format) naming `sourceName` and the bad field ("rows[2].batch_size").
BenchReport reportFromJson(const nlohmann::json &json, const std::string &sourceName);
// A header line and one line per BenchRow (same columns on every line; the last,
// perplexity, is empty unless the row's build was measured).
std::string toCsv(const BenchReport &report);
// A header line and one line per kernel row.
std::string kernelRowsToCsv(const std::vector<KernelBenchRow> &rows);

} // namespace awq::bench
