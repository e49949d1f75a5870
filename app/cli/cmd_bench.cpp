// awq bench [MODEL | --synthetic NAME]: prefill/decode throughput and memory of the FP32,
// GEMM and GEMV builds (AutoAWQ's benchmark table), a kernel micro-benchmark and the
// machine's streaming bandwidth.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <nlohmann/json.hpp>

#include "awq/bench/bandwidth.h"
#include "awq/bench/bench_runner.h"
#include "awq/bench/kernel_bench.h"
#include "awq/bench/synthetic_model.h"
#include "awq/core/cancel.h"
#include "awq/core/error.h"
#include "awq/io/atomic_file.h"
#include "awq/runtime/threads.h"
#include "cli_args.h"
#include "commands.h"

namespace awq::cli {

namespace {

std::vector<int64_t> intList(const ArgParser &args, const std::string &name, int64_t min, int64_t max)
{
    const std::string text = args.get(name);
    std::vector<int64_t> values;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        const std::string item = text.substr(start, comma - start);
        char *end = nullptr;
        errno = 0;
        const long long v = std::strtoll(item.c_str(), &end, 10);
        AWQ_CHECK(!item.empty() && *end == '\0' && errno == 0, InvalidArgument, "--", name,
                  " expects a comma-separated list of integers, got '", text, "'");
        AWQ_CHECK(v >= min && v <= max, InvalidArgument, "--", name, " values must be in [", min, ", ", max,
                  "], got ", v);
        values.push_back(v);
        start = comma + 1;
    }
    return values;
}

std::string knownShapes()
{
    std::string out;
    for (const auto &name : bench::syntheticShapeNames())
        out += (out.empty() ? "" : ", ") + name;
    return out;
}

void writeText(const std::string &path, const std::string &text)
{
    writeFileAtomically(path, text); // a failed write keeps an earlier report intact
    std::fprintf(stderr, "wrote %s\n", path.c_str());
}

// "x.csv" -> "x.kernels.csv": the kernel rows have other columns than the model rows.
std::string kernelCsvPath(const std::string &path)
{
    const size_t dot = path.rfind('.');
    const size_t slash = path.rfind('/');
    const bool hasExt = dot != std::string::npos && (slash == std::string::npos || dot > slash);
    return hasExt ? path.substr(0, dot) + ".kernels" + path.substr(dot) : path + ".kernels.csv";
}

// Progress on stderr: one rewritten line on a terminal, one line per event otherwise.
class ProgressLine
{
public:
    explicit ProgressLine(bool terminal) : m_terminal(terminal) {}
    void operator()(const Progress &p)
    {
        if (p.note == m_last)
            return;
        m_last = p.note;
        if (m_terminal) {
            std::fprintf(stderr, "\r[%lld/%lld] %-100.100s", static_cast<long long>(p.done),
                         static_cast<long long>(p.total), p.note.c_str());
            m_dirty = true;
        } else {
            std::fprintf(stderr, "[%s %lld/%lld] %s\n", p.stage.c_str(), static_cast<long long>(p.done),
                         static_cast<long long>(p.total), p.note.c_str());
        }
        std::fflush(stderr);
    }
    void finish()
    {
        if (m_dirty)
            std::fprintf(stderr, "\n");
        m_dirty = false;
    }

private:
    bool m_terminal;
    bool m_dirty = false;
    std::string m_last;
};

} // namespace

int runBench(int argc, char **argv, int first)
{
    ArgParser args("awq bench",
                   "Benchmark as AutoAWQ's benchmark does: prefill tokens/s, decode tokens/s (median per-token "
                   "time) and peak memory of the FP32, int4 GEMM and int4 GEMV builds of a model, over batch sizes "
                   "and prefill lengths, on the fused CPU decoder. The model is a folder, or a synthetic model of a "
                   "named shape (" + knownShapes() + ") with random weights built in memory. A full-precision "
                   "folder's int4 builds are quantized round-to-nearest at load (for speed only). --kernels adds "
                   "a per-kernel micro-benchmark next to the measured streaming bandwidth.");
    args.positional("MODEL", "a model folder (full precision or AWQ); or use --synthetic", /*optional=*/true);
    args.option("synthetic", "NAME", "a synthetic model of a named shape: " + knownShapes());
    args.option("variants", "LIST", "builds to compare: fp32, gemm, gemv", "fp32,gemm,gemv");
    args.option("batch", "LIST", "batch sizes, e.g. 1,2,4,8,16", "1");
    args.option("prefill", "LIST", "prefill (context) lengths", "32,64,128,256,512,1024,2048");
    args.option("decode", "N", "decode steps per run; 0 = the prefill length (AutoAWQ's published tables)", "32");
    args.option("warmup", "N", "untimed warm-up runs per row (prefill + up to 8 decode steps)", "1");
    args.option("repeats", "N", "timed runs per row; the best is reported", "3");
    args.option("threads", "N", "CPU threads; 0 = all cores", "0");
    args.option("device", "ID", "cpu (the fused CPU decoder), or cuda:N (the CUDA decoder: FP16 instead of FP32)", "cpu");
    addLmHeadOption(args);
    args.option("group-size", "N", "group size of synthetic and RTN int4 builds", "128");
    args.option("seed", "N", "seed of the random weights and token ids", "0");
    args.flag("no-memory-check", "run even when the estimated memory exceeds what is available");
    args.option("json", "FILE", "write the full report as JSON (what the dashboard reads)");
    args.option("csv", "FILE", "write the rows as CSV (kernel rows too: to FILE.kernels.csv when model rows take FILE)");
    args.flag("kernels", "run the kernel micro-benchmark (implies --bandwidth)");
    args.option("kernel-shapes", "LIST",
                "kernel shapes INxOUT, e.g. 4096x12288 (default: TinyLlama's qkv 2048x2560, o 2048x2048, gate_up "
                "2048x11264, down 5632x2048)");
    args.option("kernel-rows", "LIST", "rows (tokens) per kernel call", "1,8,512");
    args.flag("bandwidth", "measure the streaming read bandwidth of this machine");
    if (!args.parse(argc, argv, first)) {
        std::cout << args.help();
        return 0;
    }
    const bool folder = args.hasPositional("MODEL"), synthetic = args.has("synthetic");
    AWQ_CHECK(!(folder && synthetic), InvalidArgument, "give MODEL or --synthetic NAME, not both");
    const bool kernels = args.has("kernels"), bandwidth = kernels || args.has("bandwidth");
    AWQ_CHECK(folder || synthetic || bandwidth, InvalidArgument,
              "nothing to benchmark: give MODEL or --synthetic NAME (", knownShapes(), "), or --kernels / --bandwidth");

    bench::BenchPlan plan;
    if (folder)
        plan.modelFolder = args.positionalValue("MODEL");
    if (synthetic) {
        plan.syntheticShape = args.get("synthetic");
        bench::syntheticConfig(plan.syntheticShape); // an unknown name fails before anything runs
    }
    plan.variants = bench::parseVariants(args.get("variants"));
    plan.batchSizes = intList(args, "batch", 1, 4096);
    plan.prefillLengths = intList(args, "prefill", 1, 1 << 20);
    plan.decodeLength = args.getInt("decode", 0, 1 << 20);
    plan.warmup = static_cast<int>(args.getInt("warmup", 0, 1000));
    plan.repeats = static_cast<int>(args.getInt("repeats", 1, 1000));
    plan.groupSize = args.getInt("group-size", 1, 1 << 20);
    plan.seed = static_cast<uint64_t>(args.getInt("seed", 0, INT64_MAX));
    plan.checkMemory = !args.has("no-memory-check");
    plan.device = args.get("device");
    bench::KernelBenchOptions kernelOptions;
    if (args.has("kernel-shapes"))
        kernelOptions.shapes = bench::parseKernelShapes(args.get("kernel-shapes"));
    kernelOptions.rows = intList(args, "kernel-rows", 1, 1 << 16);
    kernelOptions.groupSize = plan.groupSize;
    kernelOptions.seed = plan.seed;

    plan.threads = configureThreads(static_cast<int>(args.getInt("threads", 0, 1024)));
    applyLmHeadOption(args);
    CancelToken cancel;
    cancelOnInterrupt(cancel);
    ProgressLine progress(::isatty(STDERR_FILENO) != 0);
    auto onProgress = [&](const Progress &p) { progress(p); };

    bench::BenchReport report = folder || synthetic ? bench::runBenchmark(plan, onProgress, cancel)
                                                    : bench::newReport();
    report.plan = plan;
    if (bandwidth) {
        progress({"bandwidth", 0, 1, "measuring the streaming read bandwidth"});
        report.bandwidth = bench::measureReadBandwidth(plan.threads);
    }
    if (kernels)
        report.kernelRows = bench::runKernelBench(kernelOptions, onProgress, cancel);
    progress.finish();

    std::cout << bench::formatTable(report);
    if (args.has("json"))
        writeText(args.get("json"), bench::toJson(report).dump(2) + "\n");
    if (args.has("csv")) {
        if (!report.rows.empty())
            writeText(args.get("csv"), bench::toCsv(report));
        if (!report.kernelRows.empty())
            writeText(report.rows.empty() ? args.get("csv") : kernelCsvPath(args.get("csv")),
                      bench::kernelRowsToCsv(report.kernelRows));
    }
    return 0;
}

} // namespace awq::cli
