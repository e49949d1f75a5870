// The benchmark report as text: AutoAWQ's table for a terminal, JSON for the dashboard,
// CSV for spreadsheets.

#include <cmath>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "awq/bench/bench_runner.h"
#include "awq/core/error.h"
#include "awq/io/json_file.h"
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
            << m.isa << (m.blas.empty() ? "" : ", BLAS " + m.blas) << ", "
            << format("%.1f", gibibytes(m.memoryTotalBytes)) << " GiB RAM; AWQ Studio " << r.awqVersion << ", "
            << r.date << "\n";
        if (m.blas.find("own pthreads") != std::string::npos) // blasRunsItsOwnThreads() when it ran
            out << "Warning: this BLAS runs its own threads beside the engine's OpenMP threads; on few cores they "
                   "fight for them (FP32 and prefill figures suffer). Select libopenblas0-openmp "
                   "(scripts/setup-deps.sh does).\n";
        out << "Method:  " << warmupText(r.plan) << "; " << repeatText(r.plan) << ".\n";
        out << "         " << kRates << ".\n";
        out << "         Memory: " << kMemory
            << (m.peakRssResettable ? "." : " (could not reset the high-water mark: process-lifetime peak).") << "\n";
        for (const auto &v : r.variants)
            out << "Build " << variantLabel(v.variant, r.plan.device) << ": " << v.description << ", "
                << format("%.2f", gibibytes(v.weightBytes)) << " GiB of weights, made in "
                << format("%.1f", v.buildSeconds) << " s; " << v.weights << "\n";
        out << "\n";
        std::vector<std::vector<std::string>> cells;
        const bool gpu = r.plan.device != "cpu";
        if (gpu)
            out << "Device:  " << r.plan.device << " (the CUDA decoder; Memory is what it holds on the device)\n";
        for (const auto &row : r.rows) {
            const double share = m.memoryTotalBytes ? 100.0 * static_cast<double>(row.peakRssBytes)
                                                          / static_cast<double>(m.memoryTotalBytes)
                                                    : 0.0;
            // On a GPU the memory that matters is the device's: what the decoder holds there.
            const uint64_t deviceBytes = row.weightBytes + row.kvCacheBytes + row.bufferBytes;
            cells.push_back({variantLabel(row.variant, r.plan.device), std::to_string(row.batch),
                             std::to_string(row.prefillLength), std::to_string(row.decodeLength),
                             format("%.3f", row.prefillTokensPerSecond), format("%.3f", row.decodeTokensPerSecond),
                             gpu ? format("%.2f GiB", gibibytes(deviceBytes))
                                 : format("%.2f GiB (%.2f%%)", gibibytes(row.peakRssBytes), share)});
        }
        out << detail::renderTable({"Version", "Batch Size", "Prefill Length", "Decode Length", "Prefill tokens/s",
                                    "Decode tokens/s", gpu ? "Memory (" + r.plan.device + ")" : "Memory (RAM)"},
                                   cells, {false, true, true, true, true, true, true});
    }
    const BandwidthResult &bw = r.bandwidth;
    if (bw.gbPerSecond > 0) {
        out << (out.tellp() > 0 ? "\n" : "") << "Streaming read bandwidth (measured): "
            << format("%.1f GB/s", bw.gbPerSecond) << " (" << format("%.2f", gibibytes(bw.bytes))
            << " GiB buffer, " << bw.threads << " threads, best of " << bw.passes << " passes)\n";
        // Decode against the roofline: the weight bytes a step reads (a MoE model's routed
        // experts only) times the steps per second, over the measured bandwidth.
        for (const auto &row : r.rows)
            if (row.tokenWeightBytes > 0 && row.decodeTokensPerSecond > 0) {
                const double steps = row.decodeTokensPerSecond / static_cast<double>(row.batch);
                const double gbps = steps * static_cast<double>(row.tokenWeightBytes) / 1e9;
                out << "Decode roofline, " << variantLabel(row.variant) << " batch " << row.batch << ": "
                    << format("%.3f", gibibytes(row.tokenWeightBytes)) << " GiB of weights read per step x "
                    << format("%.2f", steps) << " steps/s = " << format("%.1f GB/s", gbps) << ", "
                    << format("%.0f%%", 100.0 * gbps / bw.gbPerSecond) << " of the measured bandwidth\n";
            }
    }
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
                    {"blas", m.blas},
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
                 {"seed", p.seed},
                 {"device", p.device}};
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
                             {"token_weight_bytes", row.tokenWeightBytes},
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
    j["perplexity"] = json::array();
    for (const auto &q : r.perplexity)
        j["perplexity"].push_back({{"variant", variantName(q.variant)},
                                   {"perplexity", q.perplexity},
                                   {"seq_len", q.seqLen},
                                   {"windows", q.windows},
                                   {"text", q.text},
                                   {"seconds", q.seconds}});
    return j;
}

namespace {

// Bounds on the values of a saved report: far above any real run, low enough that a
// chart or a re-run plan built from the file stays sane.
constexpr int64_t kMaxInteger = int64_t(1) << 32;
constexpr int64_t kMaxSmallInteger = int64_t(1) << 20; // threads, cores, repeats
constexpr double kMaxNumber = 1e18;                      // bytes per second fit below this

// Reads one JSON object of a saved report; every error names the source and the field's
// path from the document root ("rows[2].batch_size").
class FieldReader
{
public:
    FieldReader(const json &object, const std::string &source, std::string path)
        : m_json(object), m_source(source), m_path(std::move(path))
    {
        AWQ_CHECK(m_json.is_object(), Format, m_source, ": '", where(), "' must be an object, got ", jsonPreview(m_json));
    }

    bool has(const char *key) const { return m_json.contains(key); }

    const json &value(const char *key) const
    {
        AWQ_CHECK(m_json.contains(key), Format, m_source, ": required field '", field(key), "' is missing");
        return m_json.at(key);
    }
    std::string string(const char *key) const
    {
        const json &v = value(key);
        AWQ_CHECK(v.is_string(), Format, m_source, ": '", field(key), "' must be a string, got ", jsonPreview(v));
        return v.get<std::string>();
    }
    double number(const char *key) const
    {
        const json &v = value(key);
        AWQ_CHECK(v.is_number(), Format, m_source, ": '", field(key), "' must be a number, got ", jsonPreview(v));
        // Times, rates, sizes and perplexities: never negative, never infinite.
        const double value = v.get<double>();
        AWQ_CHECK(std::isfinite(value) && value >= 0.0 && value <= kMaxNumber, Format, m_source, ": '", field(key),
                  "' = ", value, " is out of range [0, ", kMaxNumber, "]");
        return value;
    }
    // Batch sizes, lengths and shapes: non-negative and bounded (group_size may be -1).
    int64_t integer(const char *key, int64_t min = 0) const { return integerValue(value(key), field(key), min); }
    uint64_t count(const char *key) const
    {
        const json &v = value(key);
        AWQ_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), Format, m_source,
                  ": '", field(key), "' must be a non-negative integer, got ", jsonPreview(v));
        return v.get<uint64_t>();
    }
    int smallInteger(const char *key) const
    {
        const int64_t v = integer(key);
        AWQ_CHECK(v <= kMaxSmallInteger, Format, m_source, ": '", field(key), "' = ", v, " is out of range [0, ",
                  kMaxSmallInteger, "]");
        return static_cast<int>(v);
    }
    bool boolean(const char *key) const
    {
        const json &v = value(key);
        AWQ_CHECK(v.is_boolean(), Format, m_source, ": '", field(key), "' must be true or false, got ", jsonPreview(v));
        return v.get<bool>();
    }
    Variant variant(const char *key) const
    {
        const std::string name = string(key);
        for (Variant v : {Variant::Fp32, Variant::Gemm, Variant::Gemv})
            if (name == variantName(v))
                return v;
        fail(ErrorCode::Format, m_source, ": '", field(key), "' must be fp32, gemm or gemv, got '", name, "'");
    }
    std::vector<int64_t> integers(const char *key) const
    {
        std::vector<int64_t> out;
        const json &list = array(key);
        for (size_t i = 0; i < list.size(); ++i)
            out.push_back(integerValue(list[i], field(key) + "[" + std::to_string(i) + "]", 0));
        return out;
    }
    const json &array(const char *key) const
    {
        const json &v = value(key);
        AWQ_CHECK(v.is_array(), Format, m_source, ": '", field(key), "' must be an array, got ", jsonPreview(v));
        return v;
    }
    FieldReader object(const char *key) const { return FieldReader(value(key), m_source, field(key)); }
    // The objects of an array, each with its path ("rows[3]").
    std::vector<FieldReader> objects(const char *key) const
    {
        std::vector<FieldReader> out;
        const json &list = array(key);
        for (size_t i = 0; i < list.size(); ++i)
            out.emplace_back(list[i], m_source, field(key) + "[" + std::to_string(i) + "]");
        return out;
    }
    std::string field(const char *key) const { return m_path.empty() ? key : m_path + "." + key; }

private:
    std::string where() const { return m_path.empty() ? "(document)" : m_path; }
    int64_t integerValue(const json &v, const std::string &name, int64_t min) const
    {
        AWQ_CHECK(v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX), Format,
                  m_source, ": '", name, "' must be an integer, got ", jsonPreview(v));
        const int64_t value = v.get<int64_t>();
        AWQ_CHECK(value >= min && value <= kMaxInteger, Format, m_source, ": '", name, "' = ", value,
                  " is out of range [", min, ", ", kMaxInteger, "]");
        return value;
    }

    const json &m_json;
    const std::string &m_source;
    std::string m_path;
};

constexpr const char *kSchema = "awq-studio/bench/1";

} // namespace

BenchReport reportFromJson(const json &document, const std::string &sourceName)
{
    const FieldReader root(document, sourceName, "");
    const std::string schema = root.string("schema");
    AWQ_CHECK(schema == kSchema, Format, sourceName, ": 'schema' is '", schema, "', expected '", kSchema,
              "' (a report written by awq bench --json or the benchmark dashboard)");
    BenchReport r;
    r.awqVersion = root.string("awq_version");
    r.date = root.string("date");

    const FieldReader model = root.object("model");
    r.model = model.string("name");
    const std::string source = model.string("source");
    AWQ_CHECK(source == "folder" || source == "synthetic", Format, sourceName, ": '", model.field("source"),
              "' must be folder or synthetic, got '", source, "'");
    BenchPlan &p = r.plan;
    p.syntheticShape = model.string("synthetic_shape");
    p.modelFolder = model.string("folder");
    AWQ_CHECK((source == "synthetic") == !p.syntheticShape.empty(), Format, sourceName, ": '",
              model.field("synthetic_shape"), "' must be given exactly when the source is synthetic");
    if (!model.value("config").is_null())
        r.config = ModelConfig::fromJson(model.value("config"), sourceName + " (" + model.field("config") + ")");

    const FieldReader machine = root.object("machine");
    MachineInfo &m = r.machine;
    m.cpuModel = machine.string("cpu");
    m.cores = machine.smallInteger("cores");
    m.threads = machine.smallInteger("threads");
    m.isa = machine.string("isa");
    if (machine.has("blas")) // absent in reports written before it was recorded
        m.blas = machine.string("blas");
    m.memoryTotalBytes = machine.count("memory_total_bytes");
    m.memoryAvailableBytes = machine.count("memory_available_bytes");
    m.peakRssResettable = machine.boolean("peak_rss_resettable");

    const FieldReader plan = root.object("plan");
    p.variants.clear();
    const json &variants = plan.array("variants");
    for (size_t i = 0; i < variants.size(); ++i) {
        const json wrapped = {{"variant", variants[i]}};
        p.variants.push_back(
            FieldReader(wrapped, sourceName, plan.field("variants") + "[" + std::to_string(i) + "]")
                .variant("variant"));
    }
    p.batchSizes = plan.integers("batch_sizes");
    p.prefillLengths = plan.integers("prefill_lengths");
    p.decodeLength = plan.integer("decode_length");
    p.warmup = plan.smallInteger("warmup");
    p.repeats = plan.smallInteger("repeats");
    p.threads = plan.smallInteger("threads");
    p.groupSize = plan.integer("group_size", -1);
    p.seed = plan.count("seed");
    p.device = plan.has("device") ? plan.string("device") : "cpu"; // absent in reports written before GPUs

    for (const FieldReader &v : root.objects("variants")) {
        VariantInfo info;
        info.variant = v.variant("variant");
        info.description = v.string("description");
        info.weights = v.string("weights");
        info.buildSeconds = v.number("build_seconds");
        info.weightBytes = v.count("weight_bytes");
        r.variants.push_back(info);
    }
    for (const FieldReader &row : root.objects("rows")) {
        BenchRow b;
        b.variant = row.variant("variant");
        b.batch = row.integer("batch_size");
        b.prefillLength = row.integer("prefill_length");
        b.decodeLength = row.integer("decode_length");
        b.prefillSeconds = row.number("prefill_seconds");
        b.prefillTokensPerSecond = row.number("prefill_tokens_per_second");
        b.decodeMedianStepSeconds = row.number("decode_median_step_seconds");
        b.decodeMinStepSeconds = row.number("decode_min_step_seconds");
        b.decodeTokensPerSecond = row.number("decode_tokens_per_second");
        b.peakRssBytes = row.count("peak_rss_bytes");
        b.weightBytes = row.count("weight_bytes");
        b.tokenWeightBytes = row.has("token_weight_bytes") ? row.count("token_weight_bytes") : 0;
        b.kvCacheBytes = row.count("kv_cache_bytes");
        b.bufferBytes = row.count("buffer_bytes");
        r.rows.push_back(b);
    }
    if (!root.value("bandwidth").is_null()) {
        const FieldReader bw = root.object("bandwidth");
        r.bandwidth.gbPerSecond = bw.number("gb_per_second");
        r.bandwidth.bytes = bw.count("bytes");
        r.bandwidth.threads = bw.smallInteger("threads");
        r.bandwidth.passes = bw.smallInteger("passes");
    }
    for (const FieldReader &k : root.objects("kernels")) {
        KernelBenchRow row;
        row.shape = k.string("shape");
        row.inFeatures = k.integer("in_features");
        row.outFeatures = k.integer("out_features");
        row.rows = k.integer("rows");
        row.kernel = k.string("kernel");
        row.packing = k.string("packing");
        row.isa = k.string("isa");
        row.weightBytes = k.count("weight_bytes");
        row.seconds = k.number("seconds");
        row.repeats = k.smallInteger("repeats");
        row.weightGBPerSecond = k.number("weight_gb_per_second");
        row.gflops = k.number("gflops");
        r.kernelRows.push_back(row);
    }
    if (root.has("perplexity"))
        for (const FieldReader &q : root.objects("perplexity")) {
            VariantPerplexity v;
            v.variant = q.variant("variant");
            v.perplexity = q.number("perplexity");
            v.seqLen = q.integer("seq_len");
            v.windows = q.integer("windows");
            v.text = q.string("text");
            v.seconds = q.number("seconds");
            r.perplexity.push_back(v);
        }
    return r;
}

std::string toCsv(const BenchReport &r)
{
    std::ostringstream out;
    out << "variant,batch_size,prefill_length,decode_length,prefill_tokens_per_second,decode_tokens_per_second,"
           "prefill_seconds,decode_median_step_seconds,decode_min_step_seconds,peak_rss_bytes,weight_bytes,"
           "kv_cache_bytes,buffer_bytes,threads,isa,perplexity\n";
    for (const auto &row : r.rows) {
        std::string perplexity;
        for (const auto &q : r.perplexity)
            if (q.variant == row.variant)
                perplexity = format("%.6g", q.perplexity);
        out << variantName(row.variant) << ',' << row.batch << ',' << row.prefillLength << ',' << row.decodeLength
            << ',' << format("%.6g", row.prefillTokensPerSecond) << ',' << format("%.6g", row.decodeTokensPerSecond)
            << ',' << format("%.6g", row.prefillSeconds) << ',' << format("%.6g", row.decodeMedianStepSeconds) << ','
            << format("%.6g", row.decodeMinStepSeconds) << ',' << row.peakRssBytes << ',' << row.weightBytes << ','
            << row.kvCacheBytes << ',' << row.bufferBytes << ',' << r.machine.threads << ',' << r.machine.isa
            << ',' << perplexity << '\n';
    }
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
