#include "awq/bench/bench_runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <limits>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include "awq/core/error.h"
#include "awq/core/gpu_memory.h"
#include "awq/core/memory.h"
#include "awq/cuda/decoder_plan.h"
#include "awq/nn/fused_cpu_decoder.h"
#include "awq/nn/reference_model.h"
#include "awq/nn/quant_linear.h"
#include "awq/runtime/devices.h"
#include "awq/runtime/loaded_model.h"
#include "awq/runtime/threads.h"

namespace awq::bench {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string gib(uint64_t bytes)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
    return buf;
}

std::string cpuModelName()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        // x86 says "model name", some ARM kernels only "Hardware" or "Processor".
        for (const char *key : {"model name", "Hardware", "Processor"}) {
            if (line.rfind(key, 0) != 0)
                continue;
            const size_t colon = line.find(':');
            if (colon != std::string::npos && colon + 2 <= line.size())
                return line.substr(colon + 2);
        }
    }
    return "unknown CPU";
}

std::string utcNow()
{
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int64_t decodeStepsFor(const BenchPlan &plan, int64_t prefill)
{
    return plan.decodeLength > 0 ? plan.decodeLength : prefill;
}

void checkPlan(const BenchPlan &plan)
{
    const bool folder = !plan.modelFolder.empty(), synthetic = !plan.syntheticShape.empty();
    AWQ_CHECK(folder != synthetic, InvalidArgument,
              folder ? "give a model folder or a synthetic shape, not both"
                     : "give a model folder or a synthetic shape to benchmark");
    AWQ_CHECK(!plan.variants.empty(), InvalidArgument, "no variant to benchmark (fp32, gemm, gemv)");
    AWQ_CHECK(!plan.batchSizes.empty(), InvalidArgument, "no batch size to benchmark");
    AWQ_CHECK(!plan.prefillLengths.empty(), InvalidArgument, "no prefill length to benchmark");
    for (int64_t b : plan.batchSizes)
        AWQ_CHECK(b > 0, InvalidArgument, "batch sizes must be positive, got ", b);
    for (int64_t p : plan.prefillLengths)
        AWQ_CHECK(p > 0, InvalidArgument, "prefill lengths must be positive, got ", p);
    AWQ_CHECK(plan.decodeLength >= 0, InvalidArgument, "the decode length must be >= 0, got ", plan.decodeLength);
    AWQ_CHECK(plan.warmup >= 0, InvalidArgument, "warm-up runs must be >= 0, got ", plan.warmup);
    AWQ_CHECK(plan.repeats >= 1, InvalidArgument, "repeats must be >= 1, got ", plan.repeats);
}

// Puts LibTorch's thread count back as it was (the GUI shares the process).
class ThreadsGuard
{
public:
    explicit ThreadsGuard(int threads)
    {
        if (threads > 0 && threads != m_previous)
            at::set_num_threads(threads);
    }
    ~ThreadsGuard()
    {
        if (at::get_num_threads() != m_previous)
            at::set_num_threads(m_previous);
    }

private:
    int m_previous = at::get_num_threads();
};

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// A model of the plan's source in the variant's build, and a sentence saying how its
// weights were made.
std::pair<std::unique_ptr<ReferenceModel>, std::string> buildModel(const BenchPlan &plan, const ModelConfig &config,
                                                               Variant variant, const ProgressFn &progress,
                                                               const CancelToken &cancel)
{
    if (!plan.syntheticShape.empty()) {
        auto model = buildSyntheticModel(config, variant, plan.groupSize, plan.seed, progress, cancel);
        const std::string linears =
            variant == Variant::Fp32
                ? std::string("fp32 linears N(0, 0.02^2)")
                : std::string("int4 linears with random codes and zero points packed directly as ")
                      + variantName(variant) + " (group " + std::to_string(plan.groupSize)
                      + ", fp16 scales in [0.001, 0.003])";
        const std::string note = "random weights: " + linears
                                 + ", embeddings and lm_head N(0, 0.02^2) rounded to fp16 values (an int4 build streams its lm_head as fp16); speed only, the outputs are meaningless";
        return {std::move(model), note};
    }
    LoadedModel loaded = loadModel(plan.modelFolder, {}, progress);
    std::string note = convertModel(*loaded.model, variant, plan.groupSize, progress, cancel);
    return {std::move(loaded.model), note};
}

// One (batch, prefill) row: warm-up, then `repeats` timed runs of a prefill and its
// decode steps. Token ids are random: speed does not depend on them.
BenchRow measureRow(DecoderModel &fused, const BenchPlan &plan, Variant variant, int64_t batch, int64_t prefill,
                    at::Generator &gen, const std::function<void(const std::string &)> &note,
                    const CancelToken &cancel)
{
    const int64_t decode = decodeStepsFor(plan, prefill);
    const int64_t vocab = fused.config().vocabSize;
    fused.reset(batch, prefill + decode);
    const at::Tensor ids = at::randint(vocab, {batch, prefill}, gen, at::kLong);
    const at::Tensor steps = at::randint(vocab, {decode, batch, 1}, gen, at::kLong);

    for (int w = 0; w < plan.warmup; ++w) {
        cancel.throwIfCancelled();
        note("warm-up " + std::to_string(w + 1) + "/" + std::to_string(plan.warmup));
        fused.truncate(0);
        fused.prefill(ids);
        for (int64_t s = 0; s < std::min<int64_t>(decode, kWarmupDecodeSteps); ++s)
            fused.decodeStep(steps[s]);
    }
    // Memory freed by earlier rows would otherwise count towards this row's peak.
    releaseFreeMemory();
    resetPeakRss();

    BenchRow row;
    row.variant = variant;
    row.batch = batch;
    row.prefillLength = prefill;
    row.decodeLength = decode;
    row.prefillSeconds = std::numeric_limits<double>::infinity();
    row.decodeMedianStepSeconds = std::numeric_limits<double>::infinity();
    row.decodeMinStepSeconds = std::numeric_limits<double>::infinity();
    std::vector<double> stepSeconds(static_cast<size_t>(decode));
    for (int r = 0; r < plan.repeats; ++r) {
        cancel.throwIfCancelled();
        note("run " + std::to_string(r + 1) + "/" + std::to_string(plan.repeats));
        fused.truncate(0);
        auto start = Clock::now();
        fused.prefill(ids);
        row.prefillSeconds = std::min(row.prefillSeconds, secondsSince(start));
        for (int64_t s = 0; s < decode; ++s) {
            cancel.throwIfCancelled();
            start = Clock::now();
            fused.decodeStep(steps[s]);
            stepSeconds[static_cast<size_t>(s)] = secondsSince(start);
        }
        row.decodeMedianStepSeconds = std::min(row.decodeMedianStepSeconds, median(stepSeconds));
        row.decodeMinStepSeconds =
            std::min(row.decodeMinStepSeconds, *std::min_element(stepSeconds.begin(), stepSeconds.end()));
    }
    row.peakRssBytes = peakRssBytes();
    row.prefillTokensPerSecond = static_cast<double>(batch * prefill) / row.prefillSeconds;
    row.decodeTokensPerSecond = static_cast<double>(batch) / row.decodeMedianStepSeconds;
    const DecoderMemory memory = fused.memory();
    row.weightBytes = memory.weightBytes;
    row.tokenWeightBytes = memory.tokenWeightBytes;
    row.kvCacheBytes = memory.kvCacheBytes;
    row.bufferBytes = memory.bufferBytes;
    return row;
}

// Refuses a build whose device memory (the CUDA decoder's plan) exceeds what the driver
// reports free on that GPU; silent when NVML is not there.
void checkGpuMemory(const BenchPlan &plan, const ModelConfig &config, Variant variant, const std::string &model)
{
    const int index = cuda::parseCudaDevice(plan.device);
    const bool quantizedFolder = plan.syntheticShape.empty() && config.quantization.present;
    const int64_t group = quantizedFolder ? config.quantization.groupSize : plan.groupSize;
    const cuda::WeightFormat format = variant == Variant::Fp32   ? cuda::WeightFormat::Half
                                      : variant == Variant::Gemv ? cuda::WeightFormat::Int4Gemv
                                                                 : cuda::WeightFormat::Int4Gemm;
    for (const GpuMemory &gpu : queryGpuMemory()) {
        if (gpu.index != index)
            continue;
        const uint64_t free = gpu.totalBytes > gpu.usedBytes ? gpu.totalBytes - gpu.usedBytes : 0;
        for (int64_t batch : plan.batchSizes)
            for (int64_t prefill : plan.prefillLengths) {
                const cuda::MemoryEstimate need = cuda::estimateMemory(
                    config, format, group, batch, prefill + decodeStepsFor(plan, prefill), batch * prefill);
                AWQ_CHECK(need.total() <= free, OutOfMemory, "the ", variantLabel(variant, plan.device), " build of ",
                          model, " at batch ", batch, ", prefill ", prefill, " needs about ", gib(need.total()),
                          " on ", plan.device, " (weights ", gib(need.weights), ", KV cache ", gib(need.kvCache),
                          ", activations and workspace ", gib(need.activations + need.workspace), ") but ", gib(free),
                          " of ", gib(gpu.totalBytes), " is free there");
            }
    }
}

} // namespace

const char *variantLabel(Variant variant, const std::string &device)
{
    return variant == Variant::Fp32 && device != "cpu" ? "FP16" : variantLabel(variant);
}

MachineInfo describeMachine()
{
    MachineInfo m;
    m.cpuModel = cpuModelName();
    m.cores = static_cast<int>(std::thread::hardware_concurrency());
    m.threads = parallelThreadsInUse();  // what the loops run on, not only what was asked
    m.isa = kernels::cpuIsaName(QuantLinear::isa());
    m.blas = blasDescription();
    const SystemMemory memory = systemMemory();
    m.memoryTotalBytes = memory.totalBytes;
    m.memoryAvailableBytes = memory.availableBytes;
    return m;
}

BenchReport newReport()
{
    BenchReport report;
    report.date = utcNow();
    report.awqVersion = AWQ_VERSION;
    report.machine = describeMachine();
    report.machine.peakRssResettable = resetPeakRss();
    return report;
}

MemoryNeed estimatePlanMemory(const BenchPlan &plan, const ModelConfig &config, Variant variant)
{
    const bool quantizedFolder = plan.syntheticShape.empty() && config.quantization.present;
    const int64_t group = quantizedFolder ? config.quantization.groupSize : plan.groupSize;
    MemoryNeed need;
    need.weightBytes = estimateWeightBytes(config, variant, group);
    if (plan.syntheticShape.empty()) {
        // The folder is loaded first: fp32 weights, or the checkpoint's own packing.
        const Variant stored = !quantizedFolder                        ? Variant::Fp32
                               : config.quantization.version == "gemv" ? Variant::Gemv
                                                                       : Variant::Gemm;
        need.weightBytes = std::max(need.weightBytes, estimateWeightBytes(config, stored, group));
    }
    need.buildBytes = estimateBuildBytes(config, variant, plan.groupSize, !plan.syntheticShape.empty());
    for (int64_t batch : plan.batchSizes)
        for (int64_t prefill : plan.prefillLengths) {
            const int64_t decode = decodeStepsFor(plan, prefill);
            const uint64_t kv = estimateKvCacheBytes(config, batch, prefill + decode);
            const uint64_t activations = estimateActivationBytes(config, batch, prefill);
            if (kv + activations > need.kvCacheBytes + need.activationBytes || need.batch == 0) {
                need.kvCacheBytes = kv;
                need.activationBytes = activations;
                need.batch = batch;
                need.prefillLength = prefill;
                need.decodeLength = decode;
            }
        }
    return need;
}

BenchReport runBenchmark(const BenchPlan &plan, const ProgressFn &progress, const CancelToken &cancel)
{
    checkPlan(plan);
    ThreadsGuard threads(plan.threads);
    c10::InferenceMode inference;

    BenchReport report = newReport();
    report.plan = plan;
    const bool synthetic = !plan.syntheticShape.empty();
    report.config = synthetic ? syntheticConfig(plan.syntheticShape) : ModelConfig::load(plan.modelFolder);
    report.model = synthetic ? "synthetic " + plan.syntheticShape + " (random weights)" : plan.modelFolder.string();

    // Refuse up front, before minutes of building: a plan that swaps measures the disk.
    checkDevice(plan.device);
    for (Variant v : plan.variants) {
        if (synthetic || !report.config.quantization.present)
            checkGroupSize(report.config, v, plan.groupSize);
        if (plan.device != "cpu" && plan.checkMemory)
            checkGpuMemory(plan, report.config, v, report.model);
        const MemoryNeed need = estimatePlanMemory(plan, report.config, v);
        const uint64_t available = report.machine.memoryAvailableBytes;
        AWQ_CHECK(!plan.checkMemory || available == 0 || need.total() <= available, OutOfMemory, "the ",
                  variantLabel(v), " build of ", report.model, " needs about ", gib(need.total()), " (weights ",
                  gib(need.weightBytes), ", ", gib(need.buildBytes), " more while it is made, then KV cache ",
                  gib(need.kvCacheBytes), " and activations ",
                  gib(need.activationBytes), " at batch ", need.batch, ", prefill ", need.prefillLength, " + decode ",
                  need.decodeLength, ") but ", gib(available), " of ", gib(report.machine.memoryTotalBytes),
                  " is available; drop it from the variants or use smaller batches or lengths");
    }

    const int64_t rowsPerVariant = static_cast<int64_t>(plan.batchSizes.size() * plan.prefillLengths.size());
    const int64_t totalRows = rowsPerVariant * static_cast<int64_t>(plan.variants.size());
    at::Generator gen = at::detail::createCPUGenerator(plan.seed + 1);
    for (Variant v : plan.variants) {
        cancel.throwIfCancelled();
        releaseFreeMemory(); // the previous build's heap, before this one is made
        const auto buildStart = Clock::now();
        auto [model, weightsNote] = buildModel(plan, report.config, v, progress, cancel);
        const int64_t firstPrefill = plan.prefillLengths.front();
        // Each packing as built (no repack to GEMV: the benchmark compares them).
        const std::unique_ptr<DecoderModel> decoder =
            makeDecoderOn(plan.device, std::move(model), DecoderKind::Fused, /*gemvLayout=*/false, plan.batchSizes.front(),
                        firstPrefill + decodeStepsFor(plan, firstPrefill));
        DecoderModel &fused = *decoder;
        VariantInfo info;
        info.variant = v;
        info.description = fused.describe();
        info.weights = weightsNote;
        info.buildSeconds = secondsSince(buildStart);
        info.weightBytes = fused.memory().weightBytes;
        report.variants.push_back(info);

        for (int64_t batch : plan.batchSizes) {
            for (int64_t prefill : plan.prefillLengths) {
                const int64_t done = static_cast<int64_t>(report.rows.size());
                const std::string row = std::string(variantLabel(v)) + " batch " + std::to_string(batch)
                                        + ", prefill " + std::to_string(prefill) + ", decode "
                                        + std::to_string(decodeStepsFor(plan, prefill));
                auto note = [&](const std::string &what) {
                    if (progress)
                        progress({"bench", done, totalRows, row + ": " + what});
                };
                report.rows.push_back(measureRow(fused, plan, v, batch, prefill, gen, note, cancel));
            }
        }
    }
    releaseFreeMemory();
    if (progress)
        progress({"bench", totalRows, totalRows, "done"});
    return report;
}

} // namespace awq::bench
