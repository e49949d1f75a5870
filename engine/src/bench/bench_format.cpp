// The benchmark report as text: AutoAWQ's table for a terminal, JSON for the dashboard,
// CSV for spreadsheets.

#include <sstream>

#include <nlohmann/json.hpp>

#include "awq/bench/bench_runner.h"
#include "text_table.h"

namespace awq::bench {

namespace {

using detail::format;
using nlohmann::json;

double gibibytes(uint64_t bytes)
{
    return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0);
}

std::string shapeSummary(const ModelConfig &c)
{
    std::ostringstream out;
    out << c.modelType << ", " << c.numLayers << " layers, hidden " << c.hiddenSize << ", intermediate "
        << c.intermediateSize << ", " << c.numHeads << " heads / " << c.numKvHeads << " KV heads, vocab "
        << c.vocabSize;
    return out.str();
}

// The words used in the table header and in the JSON "method" object, so they agree.
std::string runs(int n, const char *what)
{
    return std::to_string(n) + " " + what + (n == 1 ? " run" : " runs");
}
std::string warmupText(const BenchPlan &p)
{
    return runs(p.warmup, "untimed warm-up") + " per row (the prefill and up to " + std::to_string(kWarmupDecodeSteps)
           + " decode steps)";
}
std::string repeatText(const BenchPlan &p)
{
    return runs(p.repeats, "timed") + " per row; the best run is reported (fastest prefill, lowest median decode step)";
}
const char *kRates = "prefill tokens/s = batch x prefill length / prefill time; decode tokens/s = batch / median "
                     "decode-step time";
const char *kMemory = "peak resident memory (RSS) of the process during the timed runs of the row: weights, KV cache, "
                      "buffers, and the process's own code and libraries (AutoAWQ reports the allocator's peak instead)";

json kernelRowJson(const KernelBenchRow &r)
{
    return {{"shape", r.shape},
            {"in_features", r.inFeatures},
            {"out_features", r.outFeatures},
            {"rows", r.rows},
            {"kernel", r.kernel},
            {"packing", r.packing},
            {"isa", r.isa},
            {"weight_bytes", r.weightBytes},
            {"seconds", r.seconds},
            {"repeats", r.repeats},
            {"weight_gb_per_second", r.weightGBPerSecond},
            {"gflops", r.gflops}};
}

} // namespace

std::string formatTable(const BenchReport &r)
{
    std::ostringstream out;
    const MachineInfo &m = r.machine;
    if (!r.rows.empty() || !r.variants.empty()) {
        out << "Model:   " << r.model << ": " << shapeSummary(r.config) << "\n";
        out << "Machine: " << m.cpuModel << ", " << m.cores << " logical CPUs, " << m.threads << " threads, int4 kernels "
            << m.isa << ", " << format("%.1f", gibibytes(m.memoryTotalBytes)) << " GiB RAM; AWQ Studio "
            << r.awqVersion << ", " << r.date << "\n";
        out << "Method:  " << warmupText(r.plan) << "; " << repeatText(r.plan) << ".\n";
        out << "         " << kRates << ".\n";
        out << "         Memory: " << kMemory
            << (m.peakRssResettable ? "." : " (could not reset the high-water mark: process-lifetime peak).") << "\n";
        for (const auto &v : r.variants)
            out << "Build " << variantLabel(v.variant) << ": " << v.description << ", "
                << format("%.2f", gibibytes(v.weightBytes)) << " GiB of weights, made in "
                << format("%.1f", v.buildSeconds) << " s; " << v.weights << "\n";
        out << "\n";
        std::vector<std::vector<std::string>> cells;
        for (const auto &row : r.rows) {
            const double share = m.memoryTotalBytes ? 100.0 * static_cast<double>(row.peakRssBytes)
                                                          / static_cast<double>(m.memoryTotalBytes)
                                                    : 0.0;
            cells.push_back({variantLabel(row.variant), std::to_string(row.batch), std::to_string(row.prefillLength),
                             std::to_string(row.decodeLength), format("%.3f", row.prefillTokensPerSecond),
                             format("%.3f", row.decodeTokensPerSecond),
                             format("%.2f GiB (%.2f%%)", gibibytes(row.peakRssBytes), share)});
        }
        out << detail::renderTable({"Version", "Batch Size", "Prefill Length", "Decode Length", "Prefill tokens/s",
                                    "Decode tokens/s", "Memory (RAM)"},
                                   cells, {false, true, true, true, true, true, true});
    }
    const BandwidthResult &bw = r.bandwidth;
    if (bw.gbPerSecond > 0)
        out << (out.tellp() > 0 ? "\n" : "") << "Streaming read bandwidth (measured): "
            << format("%.1f GB/s", bw.gbPerSecond) << " (" << format("%.2f", gibibytes(bw.bytes))
            << " GiB buffer, " << bw.threads << " threads, best of " << bw.passes << " passes)\n";
    if (!r.kernelRows.empty()) {
        out << (out.tellp() > 0 ? "\n" : "") << "Kernels: best call after warm-up; weight GB/s = packed weight bytes "
            << "read per second (fp32: 4 bytes per weight); each call reads a different copy of the weights "
            << "(256 MiB of copies), so they come from memory as in a model; " << m.threads << " threads.\n";
        out << formatKernelTable(r.kernelRows, bw.gbPerSecond);
    }
    return out.str();
}

json toJson(const BenchReport &r)
{
    const BenchPlan &p = r.plan;
    const MachineInfo &m = r.machine;
    json variants = json::array();
    for (Variant v : p.variants)
        variants.push_back(variantName(v));
    json j;
    j["schema"] = "awq-studio/bench/1";
    j["awq_version"] = r.awqVersion;
    j["date"] = r.date;
    j["model"] = {{"name", r.model},
                  {"source", p.syntheticShape.empty() ? "folder" : "synthetic"},
                  {"synthetic_shape", p.syntheticShape},
                  {"folder", p.modelFolder.string()},
                  {"config", r.rows.empty() && r.variants.empty() ? json() : r.config.toJson()}};
    j["machine"] = {{"cpu", m.cpuModel},
                    {"cores", m.cores},
                    {"threads", m.threads},
                    {"isa", m.isa},
                    {"memory_total_bytes", m.memoryTotalBytes},
                    {"memory_available_bytes", m.memoryAvailableBytes},
                    {"peak_rss_resettable", m.peakRssResettable}};
    j["plan"] = {{"variants", variants},
                 {"batch_sizes", p.batchSizes},
                 {"prefill_lengths", p.prefillLengths},
                 {"decode_length", p.decodeLength},
                 {"warmup", p.warmup},
                 {"repeats", p.repeats},
                 {"threads", p.threads},
                 {"group_size", p.groupSize},
                 {"seed", p.seed}};
    j["method"] = {{"warmup", warmupText(p)},
                   {"repeats", repeatText(p)},
                   {"aggregate", "best"},
                   {"decode_statistic", "median"},
                   {"rates", kRates},
                   {"memory", kMemory}};
    j["variants"] = json::array();
    for (const auto &v : r.variants)
        j["variants"].push_back({{"variant", variantName(v.variant)},
                                 {"description", v.description},
                                 {"weights", v.weights},
                                 {"build_seconds", v.buildSeconds},
                                 {"weight_bytes", v.weightBytes}});
    j["rows"] = json::array();
    for (const auto &row : r.rows)
        j["rows"].push_back({{"variant", variantName(row.variant)},
                             {"batch_size", row.batch},
                             {"prefill_length", row.prefillLength},
                             {"decode_length", row.decodeLength},
                             {"prefill_seconds", row.prefillSeconds},
                             {"prefill_tokens_per_second", row.prefillTokensPerSecond},
                             {"decode_median_step_seconds", row.decodeMedianStepSeconds},
                             {"decode_min_step_seconds", row.decodeMinStepSeconds},
                             {"decode_tokens_per_second", row.decodeTokensPerSecond},
                             {"peak_rss_bytes", row.peakRssBytes},
                             {"weight_bytes", row.weightBytes},
                             {"kv_cache_bytes", row.kvCacheBytes},
                             {"buffer_bytes", row.bufferBytes}});
    const BandwidthResult &bw = r.bandwidth;
    j["bandwidth"] = bw.gbPerSecond > 0 ? json{{"gb_per_second", bw.gbPerSecond},
                                               {"bytes", bw.bytes},
                                               {"threads", bw.threads},
                                               {"passes", bw.passes}}
                                        : json();
    j["kernels"] = json::array();
    for (const auto &k : r.kernelRows)
        j["kernels"].push_back(kernelRowJson(k));
    return j;
}

std::string toCsv(const BenchReport &r)
{
    std::ostringstream out;
    out << "variant,batch_size,prefill_length,decode_length,prefill_tokens_per_second,decode_tokens_per_second,"
           "prefill_seconds,decode_median_step_seconds,decode_min_step_seconds,peak_rss_bytes,weight_bytes,"
           "kv_cache_bytes,buffer_bytes,threads,isa\n";
    for (const auto &row : r.rows)
        out << variantName(row.variant) << ',' << row.batch << ',' << row.prefillLength << ',' << row.decodeLength
            << ',' << format("%.6g", row.prefillTokensPerSecond) << ',' << format("%.6g", row.decodeTokensPerSecond)
            << ',' << format("%.6g", row.prefillSeconds) << ',' << format("%.6g", row.decodeMedianStepSeconds) << ','
            << format("%.6g", row.decodeMinStepSeconds) << ',' << row.peakRssBytes << ',' << row.weightBytes << ','
            << row.kvCacheBytes << ',' << row.bufferBytes << ',' << r.machine.threads << ',' << r.machine.isa
            << '\n';
    return out.str();
}

std::string kernelRowsToCsv(const std::vector<KernelBenchRow> &rows)
{
    std::ostringstream out;
    out << "shape,in_features,out_features,rows,kernel,packing,isa,weight_bytes,seconds,repeats,"
           "weight_gb_per_second,gflops\n";
    for (const auto &r : rows)
        out << r.shape << ',' << r.inFeatures << ',' << r.outFeatures << ',' << r.rows << ',' << r.kernel << ','
            << r.packing << ',' << r.isa << ',' << r.weightBytes << ',' << format("%.6g", r.seconds) << ','
            << r.repeats << ',' << format("%.6g", r.weightGBPerSecond) << ',' << format("%.6g", r.gflops) << '\n';
    return out.str();
}

} // namespace awq::bench
