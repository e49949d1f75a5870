// awq_soak: the load (soak) test of issue 11. Repeats the engine's long jobs many times in
// ONE process and records the resident set size (RSS, /proc/self/status VmRSS) after every
// iteration, so that memory that grows run after run shows up as a slope.
//
// Phases (each N iterations, in this order; --phases picks some of them):
//   quantize  AWQ w4 (group 32, GEMM) of the model into <work>/quantized, 16 calibration
//             samples x 128 tokens of the built-in text, overwriting the folder each time
//   load      chat::ChatModel::load of the quantized model, then destroy it
//   chat      one loaded quantized model, N replies of up to 32 new tokens; a fresh
//             conversation every 5 replies, so the context grows and resets
//   bench     bench::runBenchmark on the model: FP32, GEMM and GEMV builds, batch 1,
//             prefill 16, decode 8, 1 warm-up, 1 repeat
// load and chat without quantize quantize the model once first (not measured).
// After each iteration: awq::releaseFreeMemory() (malloc_trim, as the long jobs do), then
// awq::currentRssBytes(). Per phase it prints the RSS before the phase, after iteration 1,
// min, max, last, the growth from iteration N/2 to N, and the least-squares slope of RSS
// over the second half in KiB per iteration (the first half is the warm-up: caches and
// allocator pools fill); and the growth N/2 to N of the heap bytes in use (glibc
// mallinfo2, mmap'ed chunks included): RSS that grows while the heap in use does not is
// allocator or library behaviour, not a leak. It asserts nothing about memory: it exits 1
// when an engine call throws (naming the phase and iteration), 2 for bad arguments.
//
// Run (docs/reliability.md, "Load: repeated runs in one process"):
//   build/bin/awq_soak --iterations 100 [--phases quantize,load,chat,bench] [--json FILE]
//                      [--model FOLDER] [--work DIR] [--threads N]
// The model defaults to the bundled demo model, found through AWQ_SOURCE_DIR as the tests do.

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "awq/bench/bench_runner.h"
#include "awq/chat/chat_model.h"
#include "awq/core/memory.h"
#include "awq/quant/quantize_job.h"
#include "awq/runtime/threads.h"

namespace fs = std::filesystem;

namespace {

const char *const kUsage =
    "usage: awq_soak [--iterations N] [--phases quantize,load,chat,bench] [--json FILE]\n"
    "                [--model FOLDER] [--work DIR] [--threads N]\n"
    "Repeats quantize / load / chat / bench N times each (default 50) in one process and\n"
    "reports the resident memory after every iteration (see the header of soak_main.cpp).\n";

const std::vector<std::string> kAllPhases = {"quantize", "load", "chat", "bench"};
constexpr int64_t kRepliesPerConversation = 5;
constexpr int64_t kNewTokensPerReply = 32;
constexpr double kMiB = 1024.0 * 1024.0;

struct SoakOptions {
    int iterations = 50;
    std::vector<std::string> phases = kAllPhases;
    fs::path model = fs::path(AWQ_SOURCE_DIR) / "resources" / "models" / "demo-llama";
    fs::path calibrationText = fs::path(AWQ_SOURCE_DIR) / "resources" / "text" / "brown-calibration.txt";
    fs::path work; // empty: a fresh folder under the system temp dir, removed at the end
    std::string jsonFile;
    int threads = 0;
};

struct UsageError {
    std::string message;
};

std::vector<std::string> splitCommas(const std::string &text)
{
    std::vector<std::string> items;
    std::istringstream in(text);
    for (std::string item; std::getline(in, item, ',');)
        items.push_back(item);
    return items;
}

int parseCount(const std::string &flag, const std::string &text, int min)
{
    char *end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || value < min || value > 1000000)
        throw UsageError{flag + " expects an integer >= " + std::to_string(min) + ", got '" + text + "'"};
    return static_cast<int>(value);
}

SoakOptions parseArguments(int argc, char **argv)
{
    SoakOptions o;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (i + 1 >= argc)
            throw UsageError{"unknown argument or missing value: " + flag};
        const std::string value = argv[++i];
        if (flag == "--iterations") {
            o.iterations = parseCount(flag, value, 1);
        } else if (flag == "--threads") {
            o.threads = parseCount(flag, value, 0);
        } else if (flag == "--phases") {
            o.phases = splitCommas(value);
            for (const std::string &p : o.phases)
                if (std::find(kAllPhases.begin(), kAllPhases.end(), p) == kAllPhases.end())
                    throw UsageError{"unknown phase '" + p + "' (phases: quantize, load, chat, bench)"};
        } else if (flag == "--model") {
            o.model = value;
        } else if (flag == "--work") {
            o.work = value;
        } else if (flag == "--json") {
            o.jsonFile = value;
        } else {
            throw UsageError{"unknown argument: " + flag};
        }
    }
    if (!fs::exists(o.model / "config.json"))
        throw UsageError{"no model at " + o.model.string() + " (config.json missing); give --model FOLDER"};
    if (!fs::exists(o.calibrationText))
        throw UsageError{"calibration text " + o.calibrationText.string() + " not found"};
    return o;
}

bool wants(const SoakOptions &o, const std::string &phase)
{
    return std::find(o.phases.begin(), o.phases.end(), phase) != o.phases.end();
}

uint64_t settledRssBytes()
{
    awq::releaseFreeMemory();
    return awq::currentRssBytes();
}

// Bytes the C heap has handed out and not had back, over all arenas.
uint64_t heapInUseBytes()
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    const struct mallinfo2 info = ::mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;
#endif
}

double mib(double bytes) { return bytes / kMiB; }

// Bytes from iteration N/2 to iteration N of a series of N values (1-based iterations).
double growthSecondHalf(const std::vector<uint64_t> &series)
{
    const size_t from = series.size() >= 2 ? series.size() / 2 - 1 : 0;
    return double(series.back()) - double(series[from]);
}

// Least-squares slope, bytes per iteration, over iterations N/2 + 1 to N.
double slopeSecondHalf(const std::vector<uint64_t> &series)
{
    const size_t from = series.size() / 2, n = series.size() - from;
    if (n < 2)
        return 0;
    double meanX = 0, meanY = 0;
    for (size_t i = from; i < series.size(); ++i) {
        meanX += double(i) / double(n);
        meanY += double(series[i]) / double(n);
    }
    double sxy = 0, sxx = 0;
    for (size_t i = from; i < series.size(); ++i) {
        sxy += (double(i) - meanX) * (double(series[i]) - meanY);
        sxx += (double(i) - meanX) * (double(i) - meanX);
    }
    return sxy / sxx;
}

// What one phase measured.
struct PhaseResult {
    std::string name;
    double seconds = 0;
    uint64_t rssBeforeBytes = 0;
    std::vector<uint64_t> rssAfterBytes;  // after each iteration
    std::vector<uint64_t> heapAfterBytes; // heap in use after each iteration
    std::string note;                     // what the iterations did (tokens, rows)

    double growthSecondHalfMiB() const { return mib(growthSecondHalf(rssAfterBytes)); }
    double slopeSecondHalfKiB() const { return slopeSecondHalf(rssAfterBytes) / 1024.0; }
    double heapGrowthSecondHalfKiB() const { return growthSecondHalf(heapAfterBytes) / 1024.0; }
    uint64_t minBytes() const { return *std::min_element(rssAfterBytes.begin(), rssAfterBytes.end()); }
    uint64_t maxBytes() const { return *std::max_element(rssAfterBytes.begin(), rssAfterBytes.end()); }
};

// An engine call failed: which phase and iteration, and the engine's message.
struct PhaseFailure {
    std::string phase;
    int iteration = 0;
    std::string what;
};

// Runs `work`, turning an engine error into a PhaseFailure.
template <typename Work>
void inPhase(const std::string &phase, int iteration, Work &&work)
{
    try {
        work();
    } catch (const std::exception &e) {
        throw PhaseFailure{phase, iteration, e.what()};
    }
}

// Runs `iteration(i)` for i = 0..N-1, reading the settled RSS after each one.
PhaseResult runPhase(const std::string &name, int iterations, const std::function<void(int)> &iteration)
{
    PhaseResult result;
    result.name = name;
    result.rssBeforeBytes = settledRssBytes();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) {
        const auto iterationStart = std::chrono::steady_clock::now();
        inPhase(name, i + 1, [&] { iteration(i); });
        result.rssAfterBytes.push_back(settledRssBytes());
        result.heapAfterBytes.push_back(heapInUseBytes());
        const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - iterationStart).count();
        std::fprintf(stderr, "%-8s %4d/%d  %6.2f s  RSS %8.1f MiB  heap in use %8.1f MiB\n", name.c_str(), i + 1,
                     iterations, took, mib(double(result.rssAfterBytes.back())),
                     mib(double(result.heapAfterBytes.back())));
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

awq::QuantOptions quantOptions(const SoakOptions &o, const fs::path &output)
{
    awq::QuantOptions q;
    q.modelFolder = o.model;
    q.outputFolder = output;
    q.overwrite = true;
    q.method = awq::QuantMethod::Awq;
    q.quantizer.bits = 4;
    q.quantizer.groupSize = 32;
    q.version = "gemm";
    q.calibration.source.kind = awq::CalibrationSource::Kind::Builtin;
    q.calibration.source.path = o.calibrationText;
    q.calibration.nSamples = 16;
    q.calibration.seqLen = 128;
    q.threads = o.threads;
    return q;
}

awq::bench::BenchPlan benchPlan(const SoakOptions &o)
{
    awq::bench::BenchPlan plan;
    plan.modelFolder = o.model;
    plan.variants = {awq::bench::Variant::Fp32, awq::bench::Variant::Gemm, awq::bench::Variant::Gemv};
    plan.batchSizes = {1};
    plan.prefillLengths = {16};
    plan.decodeLength = 8;
    plan.warmup = 1;
    plan.repeats = 1;
    plan.threads = o.threads;
    plan.groupSize = 32;
    return plan;
}

const std::vector<std::string> kUserMessages = {
    "What did the committee decide about the new school?",
    "Tell me about the weather in the city last week.",
    "Why did the players leave the field early?",
    "What is the best way to learn a new language?",
    "Describe the house at the end of the street.",
};

void printTable(const std::vector<PhaseResult> &results)
{
    std::printf("\n%-8s %5s %9s %9s %9s %9s %9s %9s %12s %14s %12s\n", "phase", "iter", "seconds", "before",
                "first", "min", "max", "last", "growth N/2-N", "slope 2nd half", "heap N/2-N");
    std::printf("%-8s %5s %9s %9s %9s %9s %9s %9s %12s %14s %12s\n", "", "", "", "MiB", "MiB", "MiB", "MiB", "MiB",
                "MiB", "KiB/iter", "KiB");
    for (const PhaseResult &r : results)
        std::printf("%-8s %5zu %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %+12.2f %+14.1f %+12.1f\n", r.name.c_str(),
                    r.rssAfterBytes.size(), r.seconds, mib(double(r.rssBeforeBytes)),
                    mib(double(r.rssAfterBytes.front())), mib(double(r.minBytes())), mib(double(r.maxBytes())),
                    mib(double(r.rssAfterBytes.back())), r.growthSecondHalfMiB(), r.slopeSecondHalfKiB(),
                    r.heapGrowthSecondHalfKiB());
    for (const PhaseResult &r : results)
        std::printf("%s: %s\n", r.name.c_str(), r.note.c_str());
}

void writeJson(const SoakOptions &o, const std::vector<PhaseResult> &results, const std::string &command)
{
    const awq::bench::MachineInfo machine = awq::bench::describeMachine();
    nlohmann::json phases = nlohmann::json::array();
    for (const PhaseResult &r : results)
        phases.push_back({{"phase", r.name},
                          {"iterations", r.rssAfterBytes.size()},
                          {"seconds", r.seconds},
                          {"note", r.note},
                          {"rss_before_bytes", r.rssBeforeBytes},
                          {"rss_after_bytes", r.rssAfterBytes},
                          {"heap_in_use_after_bytes", r.heapAfterBytes},
                          {"growth_second_half_mib", r.growthSecondHalfMiB()},
                          {"slope_second_half_kib_per_iteration", r.slopeSecondHalfKiB()},
                          {"heap_growth_second_half_kib", r.heapGrowthSecondHalfKiB()}});
    const nlohmann::json report = {{"format", "awq-studio/soak/1"},
                                   {"command", command},
                                   {"model", o.model.string()},
                                   {"cpu", machine.cpuModel},
                                   {"cores", machine.cores},
                                   {"threads", machine.threads},
                                   {"phases", phases}};
    std::ofstream out(o.jsonFile);
    out << report.dump(2) << "\n";
    if (!out)
        throw std::runtime_error("cannot write " + o.jsonFile);
    std::fprintf(stderr, "wrote %s\n", o.jsonFile.c_str());
}

// The work folder; one this program made itself is removed however the run ends.
struct WorkFolder {
    fs::path path;
    bool owned = false;
    ~WorkFolder()
    {
        std::error_code ignored;
        if (owned)
            fs::remove_all(path, ignored);
    }
};

int runSoak(const SoakOptions &o, const std::string &command)
{
    awq::configureThreads(o.threads);
    WorkFolder work{o.work, o.work.empty()};
    if (work.owned)
        work.path = fs::temp_directory_path() / ("awq_soak-" + std::to_string(::getpid()));
    fs::create_directories(work.path);
    const fs::path quantized = work.path / "quantized";
    std::printf("awq_soak: %d iterations of %zu phase(s), model %s, work %s, %d threads, %u cores\n", o.iterations,
                o.phases.size(), o.model.c_str(), work.path.c_str(), awq::bench::describeMachine().threads,
                std::thread::hardware_concurrency());
    std::fflush(stdout);

    std::vector<PhaseResult> results;
    if (wants(o, "quantize")) {
        const awq::QuantOptions q = quantOptions(o, quantized);
        results.push_back(runPhase("quantize", o.iterations, [&](int) { awq::quantizeModel(q); }));
        results.back().note = "AWQ w4 g32 GEMM, 16 x 128 calibration tokens, into " + quantized.string();
    } else if (wants(o, "load") || wants(o, "chat")) {
        std::fprintf(stderr, "quantizing the model once for load/chat (not measured)\n");
        inPhase("prepare", 1, [&] { awq::quantizeModel(quantOptions(o, quantized)); });
    }
    if (wants(o, "load")) {
        // The unique_ptr the load returns is destroyed at once.
        results.push_back(runPhase("load", o.iterations, [&](int) { awq::chat::ChatModel::load(quantized); }));
        results.back().note = "ChatModel::load of the quantized model, then destroyed";
    }
    if (wants(o, "chat")) {
        std::unique_ptr<awq::chat::ChatModel> model;
        inPhase("chat", 0, [&] { model = awq::chat::ChatModel::load(quantized); });
        std::vector<awq::chat::ChatMessage> conversation;
        awq::chat::ChatSettings settings;
        settings.maxNewTokens = kNewTokensPerReply;
        int64_t generated = 0, dropped = 0;
        results.push_back(runPhase("chat", o.iterations, [&](int i) {
            if (i % kRepliesPerConversation == 0)
                conversation.clear(); // a new chat
            conversation.push_back({"user", kUserMessages[size_t(i) % kUserMessages.size()]});
            settings.seed = static_cast<uint64_t>(i);
            const awq::chat::Reply reply = model->reply(conversation, settings);
            conversation.push_back({"assistant", reply.text});
            generated += reply.stats.generatedTokens;
            dropped += reply.droppedMessages;
        }));
        results.back().note = std::to_string(generated) + " tokens generated in all (up to "
                              + std::to_string(kNewTokensPerReply) + " per reply), a new conversation every "
                              + std::to_string(kRepliesPerConversation) + " replies, "
                              + std::to_string(dropped) + " old messages dropped to fit the context";
    }
    if (wants(o, "bench")) {
        const awq::bench::BenchPlan plan = benchPlan(o);
        size_t rows = 0;
        results.push_back(runPhase("bench", o.iterations,
                                   [&](int) { rows = awq::bench::runBenchmark(plan).rows.size(); }));
        results.back().note = "runBenchmark: FP32, GEMM, GEMV (RTN g32 at load), batch 1, prefill 16, decode 8, "
                              "1 warm-up, 1 repeat; " + std::to_string(rows) + " rows per run";
    }

    printTable(results);
    if (!o.jsonFile.empty())
        writeJson(o, results, command);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    awq::configureAllocator(); // as the awq CLI and the application do
    std::string command = argv[0];
    for (int i = 1; i < argc; ++i)
        command += std::string(" ") + argv[i];
    try {
        return runSoak(parseArguments(argc, argv), command);
    } catch (const UsageError &e) {
        std::fprintf(stderr, "awq_soak: %s\n%s", e.message.c_str(), kUsage);
        return 2;
    } catch (const PhaseFailure &f) {
        std::fprintf(stderr, "awq_soak: FAILED in phase %s, iteration %d: %s\n", f.phase.c_str(), f.iteration,
                     f.what.c_str());
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "awq_soak: FAILED: %s\n", e.what());
        return 1;
    }
}
