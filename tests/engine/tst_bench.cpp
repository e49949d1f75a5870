// The benchmark runner on the "tiny" synthetic shape and on a fixture folder: every build
// runs and gives the planned rows; the JSON and CSV hold them; bad plans and plans that
// would not fit in memory are refused before anything is built; the kernel
// micro-benchmark and the bandwidth measurement return numbers and restore the settings;
// a saved JSON report reads back into the same report, and a broken one is refused
// naming the file and the field.
// Speeds are only checked to be positive and finite (speed goals live in benchmarks).

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/bench/bandwidth.h"
#include "awq/bench/bench_runner.h"
#include "awq/bench/kernel_bench.h"
#include "awq/bench/synthetic_model.h"
#include "awq/core/error.h"
#include "awq/core/memory.h"
#include "awq/runtime/decoder_model.h"
#include "awq/model/memory_estimate.h"
#include "awq/nn/linear.h"
#include "awq/nn/reference_model.h"
#include "awq/nn/quant_linear.h"
#include "awq/runtime/threads.h"
#include "fixture_model.h"
#include "test_support.h"

using namespace awq;
using namespace awq::bench;
using namespace awq::test;

namespace {

bool positiveFinite(double v)
{
    return std::isfinite(v) && v > 0;
}

std::vector<std::string> lines(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

BenchPlan tinyPlan()
{
    BenchPlan plan;
    plan.syntheticShape = "tiny";
    plan.batchSizes = {1, 2};
    plan.prefillLengths = {8, 16};
    plan.decodeLength = 4;
    plan.warmup = 1;
    plan.repeats = 2;
    return plan;
}

} // namespace

class TestBench : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { configureThreads(2); }

    void shapesAreThePublishedConfigs()
    {
        const ModelConfig t = syntheticConfig("tinyllama-1.1b");
        QCOMPARE(t.hiddenSize, int64_t(2048));
        QCOMPARE(t.numLayers, int64_t(22));
        QCOMPARE(t.intermediateSize, int64_t(5632));
        QCOMPARE(t.numKvHeads, int64_t(4));
        QCOMPARE(t.headDim, int64_t(64));
        const ModelConfig m = syntheticConfig("mistral-7b");
        QCOMPARE(m.intermediateSize, int64_t(14336));
        QCOMPARE(m.ropeTheta, 1e6);
        // google/gemma-3-1b-pt: 999,885,952 parameters as published; 5 sliding layers to 1 global.
        const ModelConfig g = syntheticConfig("gemma3-1b");
        QCOMPARE(g.parameterCount(), int64_t(999'885'952));
        QCOMPARE(g.headDim, int64_t(256));
        QCOMPARE(g.numKvHeads, int64_t(1));
        QCOMPARE(g.attentionWindow(4), int64_t(512));
        QCOMPARE(g.attentionWindow(5), int64_t(0));
        QVERIFY(g.localRope(0) && !g.localRope(11) && g.ropeLocalTheta == 10000.0 && g.ropeTheta == 1e6);
        QVERIFY(g.tieWordEmbeddings && g.torchDtype == "float32");
        // The fp32 estimate is exactly 4 bytes per parameter: llama-2-7b needs ~27 GB.
        for (const auto &name : syntheticShapeNames()) {
            const ModelConfig c = syntheticConfig(name);
            QCOMPARE(estimateWeightBytes(c, Variant::Fp32, 128), uint64_t(c.parameterCount()) * 4);
        }
        // The MoE shapes have their published sizes: Mixtral-8x7B 46.7 B parameters, Qwen3-30B-A3B 30.5 B;
        // an int4 build of the latter is ~16 GiB.
        const ModelConfig mixtral = syntheticConfig("mixtral-8x7b"), qwen = syntheticConfig("qwen3-30b-a3b");
        QCOMPARE(mixtral.parameterCount() / 100'000'000, int64_t(467));
        QCOMPARE(qwen.parameterCount() / 100'000'000, int64_t(305));
        QVERIFY(qwen.isMoeLayer(0) && qwen.moe.expertsPerToken == 8 && qwen.headDim == 128);
        const double qwenInt4 = double(estimateWeightBytes(qwen, Variant::Gemv, 128)) / double(1ull << 30);
        QVERIFY2(qwenInt4 > 15.5 && qwenInt4 < 18.5, std::to_string(qwenInt4).c_str());
        const ModelConfig l = syntheticConfig("llama-2-7b");
        QVERIFY(estimateWeightBytes(l, Variant::Fp32, 128) > 26'000'000'000ull);
        QVERIFY(estimateWeightBytes(l, Variant::Gemv, 128) < 5'000'000'000ull);
    }

    void badNamesAreRefused()
    {
        const Thrown shape = catchError([] { syntheticConfig("gpt-9"); });
        QVERIFY(shape.thrown);
        QCOMPARE(shape.code, ErrorCode::InvalidArgument);
        QVERIFY2(contains(shape.message, "'gpt-9'") && contains(shape.message, "tinyllama-1.1b, llama-2-7b"),
                 shape.message.c_str());
        const Thrown variant = catchError([] { parseVariants("fp32,int8"); });
        QVERIFY2(variant.thrown && contains(variant.message, "'int8'") && contains(variant.message, "fp32, gemm, gemv"),
                 variant.message.c_str());
        const auto parsed = parseVariants("GEMV,fp32,gemv");
        QCOMPARE(parsed.size(), size_t(2));
        QVERIFY(parsed[0] == Variant::Gemv && parsed[1] == Variant::Fp32);
    }

    void badPlansAreRefusedBeforeBuilding()
    {
        BenchPlan both = tinyPlan();
        both.modelFolder = "/nonexistent";
        QCOMPARE(catchError([&] { runBenchmark(both); }).code, ErrorCode::InvalidArgument);
        BenchPlan group = tinyPlan();
        group.variants = {Variant::Gemv};
        group.groupSize = 48;
        const Thrown g = catchError([&] { runBenchmark(group); });
        QVERIFY2(g.thrown && contains(g.message, "group size"), g.message.c_str());
        // A prefill whose activations alone need a terabyte: refused, naming both numbers.
        BenchPlan huge = tinyPlan();
        huge.batchSizes = {64};
        huge.prefillLengths = {int64_t(1) << 20};
        const Thrown m = catchError([&] { runBenchmark(huge); });
        QVERIFY(m.thrown);
        QCOMPARE(m.code, ErrorCode::OutOfMemory);
        QVERIFY2(contains(m.message, "needs about") && contains(m.message, "is available"), m.message.c_str());
    }

    void randomPackedLinearsAreValid()
    {
        for (auto packing : {kernels::W4Packing::Gemm, kernels::W4Packing::Gemv}) {
            const auto q = randomQuantLinear(packing, 256, 64, 64, 7);
            const at::Tensor w = q->dequantized();
            QCOMPARE(shape(w), (Shape{64, 256}));
            QVERIFY(w.abs().max().item<float>() <= 15 * 0.003f + 1e-6f);
            QVERIFY(w.abs().max().item<float>() > 0);
            if (packing == kernels::W4Packing::Gemv) // padding columns of the scales stay zero
                QVERIFY(q->scales().narrow(1, 4, q->scales().size(1) - 4).abs().max().item<float>() == 0);
        }
    }

    void convertModelSwitchesBuilds()
    {
        const ModelConfig c = syntheticConfig("tiny");
        auto model = buildSyntheticModel(c, Variant::Gemv, 128, 3);
        const at::Tensor original = dynamic_cast<const QuantLinear &>(*model->layer(0).linear(LinearRole::Q)).dequantized();
        const std::string toGemm = convertModel(*model, Variant::Gemm, 128);
        QVERIFY2(contains(toGemm, "14 linears re-quantized round-to-nearest"), toGemm.c_str());
        const auto *gemm = dynamic_cast<const QuantLinear *>(model->layer(0).linear(LinearRole::Q));
        QVERIFY(gemm && gemm->packing() == kernels::W4Packing::Gemm);
        const std::string toFp32 = convertModel(*model, Variant::Fp32, 128);
        QVERIFY2(contains(toFp32, "dequantized"), toFp32.c_str());
        const auto *dense = dynamic_cast<const DenseLinear *>(model->layer(0).linear(LinearRole::Q));
        QVERIFY(dense);
        // RTN of a weight already on a 4-bit grid lands close to it (scales are re-derived).
        QVERIFY((dense->weight() - original).abs().max().item<float>() < 0.004f);
    }

    void everyVariantRunsOnTheTinyShape()
    {
        const BenchPlan plan = tinyPlan();
        int events = 0;
        const BenchReport r = runBenchmark(plan, [&](const Progress &) { ++events; });
        QVERIFY(events > 0);
        QCOMPARE(r.rows.size(), size_t(3 * 2 * 2));
        QCOMPARE(r.variants.size(), size_t(3));
        const ModelConfig c = syntheticConfig("tiny");
        for (const auto &row : r.rows) {
            QVERIFY(positiveFinite(row.prefillTokensPerSecond));
            QVERIFY(positiveFinite(row.decodeTokensPerSecond));
            QVERIFY(row.decodeMinStepSeconds <= row.decodeMedianStepSeconds);
            QCOMPARE(row.decodeLength, int64_t(4));
            QVERIFY(row.peakRssBytes > row.weightBytes);
            QCOMPARE(row.weightBytes, estimateWeightBytes(c, row.variant, plan.groupSize));
            QCOMPARE(row.kvCacheBytes, estimateKvCacheBytes(c, row.batch, row.prefillLength + row.decodeLength));
        }
        QVERIFY(r.rows.front().weightBytes > r.rows.back().weightBytes); // fp32 first, int4 last
        QVERIFY(!r.machine.cpuModel.empty());
        QCOMPARE(r.machine.threads, 2);

        const std::string table = formatTable(r);
        QVERIFY2(contains(table, "| Version | Batch Size | Prefill Length | Decode Length | Prefill tokens/s |"),
                 table.c_str());
        QVERIFY(contains(table, "| GEMV ") && contains(table, "| FP32 ") && contains(table, "best run"));

        const auto j = nlohmann::json::parse(toJson(r).dump());
        QCOMPARE(j.at("rows").size(), size_t(12));
        for (const char *key : {"variant", "batch_size", "prefill_length", "decode_length",
                                "prefill_tokens_per_second", "decode_tokens_per_second", "peak_rss_bytes",
                                "weight_bytes", "kv_cache_bytes"})
            QVERIFY2(j.at("rows")[0].contains(key), key);
        QCOMPARE(j.at("rows")[11].at("variant").get<std::string>(), std::string("gemv"));
        QCOMPARE(j.at("plan").at("batch_sizes"), nlohmann::json({1, 2}));
        QCOMPARE(j.at("plan").at("repeats").get<int>(), 2);
        QCOMPARE(j.at("machine").at("threads").get<int>(), 2);
        QVERIFY(j.at("machine").contains("cpu") && j.at("machine").contains("isa"));
        QCOMPARE(j.at("model").at("config").at("hidden_size").get<int>(), 256);

        const auto csv = lines(toCsv(r));
        QCOMPARE(csv.size(), size_t(13));
        QVERIFY(csv[0].rfind("variant,batch_size,prefill_length,decode_length", 0) == 0);
        const auto columns = std::count(csv[0].begin(), csv[0].end(), ',');
        for (const auto &line : csv)
            QCOMPARE(std::count(line.begin(), line.end(), ','), columns);
    }

    void jsonReadsBackIntoTheSameReport()
    {
        BenchPlan plan = tinyPlan();
        plan.variants = {Variant::Gemv, Variant::Fp32};
        plan.batchSizes = {1};
        plan.repeats = 1;
        plan.seed = 7;
        BenchReport r = runBenchmark(plan);
        QCOMPARE(r.rows.size(), size_t(2 * 2));
        r.bandwidth = {12.5, uint64_t(64) << 20, 2, 3};
        KernelBenchRow k;
        k.shape = "256x128";
        k.inFeatures = 256;
        k.outFeatures = 128;
        k.rows = 8;
        k.kernel = "gemv";
        k.packing = "gemv";
        k.isa = "avx2";
        k.weightBytes = 20480;
        k.seconds = 1.25e-6;
        k.repeats = 40;
        k.weightGBPerSecond = 16.384;
        k.gflops = 0.1 / 3.0;
        r.kernelRows.push_back(k);
        r.perplexity.push_back({Variant::Gemv, 123.456789, 128, 16, "brown-heldout.txt", 0.75});

        const nlohmann::json written = toJson(r);
        // Through text, as a file holds it.
        const BenchReport back = reportFromJson(nlohmann::json::parse(written.dump(2)), "saved.json");
        QCOMPARE(toJson(back).dump(), written.dump());
        QCOMPARE(back.rows.size(), r.rows.size());
        for (size_t i = 0; i < r.rows.size(); ++i) {
            QVERIFY(back.rows[i].variant == r.rows[i].variant);
            QCOMPARE(back.rows[i].batch, r.rows[i].batch);
            QCOMPARE(back.rows[i].prefillLength, r.rows[i].prefillLength);
            QCOMPARE(back.rows[i].prefillTokensPerSecond, r.rows[i].prefillTokensPerSecond); // bit-exact
            QCOMPARE(back.rows[i].decodeTokensPerSecond, r.rows[i].decodeTokensPerSecond);
            QCOMPARE(back.rows[i].decodeMinStepSeconds, r.rows[i].decodeMinStepSeconds);
            QCOMPARE(back.rows[i].peakRssBytes, r.rows[i].peakRssBytes);
        }
        QCOMPARE(back.config.hiddenSize, int64_t(256));
        QCOMPARE(back.plan.seed, uint64_t(7));
        QVERIFY(back.plan.variants == plan.variants);
        QCOMPARE(back.perplexity.size(), size_t(1));
        QCOMPARE(back.perplexity[0].perplexity, 123.456789);
        QCOMPARE(back.kernelRows.size(), size_t(1));
        QCOMPARE(back.kernelRows[0].gflops, k.gflops);
        QCOMPARE(back.bandwidth.gbPerSecond, 12.5);
        QVERIFY(contains(toCsv(back), ",123.457\n"));

        // Files from before the perplexity field, and reports of the kernel benchmark alone.
        nlohmann::json older = written;
        older.erase("perplexity");
        QVERIFY(reportFromJson(older, "old.json").perplexity.empty());
        const nlohmann::json kernelsOnly = toJson(newReport());
        QCOMPARE(toJson(reportFromJson(kernelsOnly, "k.json")).dump(), kernelsOnly.dump());
    }

    void brokenJsonNamesTheFileAndTheField()
    {
        BenchPlan plan = tinyPlan();
        plan.variants = {Variant::Gemm};
        plan.batchSizes = {1};
        plan.prefillLengths = {8};
        plan.repeats = 1;
        const nlohmann::json good = toJson(runBenchmark(plan));
        const auto refused = [&](const std::function<void(nlohmann::json &)> &damage, const std::string &field,
                                 const std::string &problem) {
            nlohmann::json j = good;
            damage(j);
            const Thrown t = catchError([&] { reportFromJson(j, "results-7.json"); });
            QVERIFY2(t.thrown, field.c_str());
            QCOMPARE(t.code, ErrorCode::Format);
            QVERIFY2(contains(t.message, "results-7.json") && contains(t.message, field) && contains(t.message, problem),
                     t.message.c_str());
        };
        refused([](nlohmann::json &j) { j["rows"][0]["batch_size"] = "one"; }, "'rows[0].batch_size'",
                "must be an integer");
        refused([](nlohmann::json &j) { j["machine"].erase("cpu"); }, "'machine.cpu'", "is missing");
        refused([](nlohmann::json &j) { j["rows"][0]["variant"] = "int8"; }, "'rows[0].variant'", "'int8'");
        refused([](nlohmann::json &j) { j["plan"]["batch_sizes"][0] = 1.5; }, "'plan.batch_sizes[0]'",
                "must be an integer");
        refused([](nlohmann::json &j) { j["rows"][0]["peak_rss_bytes"] = -3; }, "'rows[0].peak_rss_bytes'",
                "non-negative");
        refused([](nlohmann::json &j) { j["rows"][0]["decode_tokens_per_second"] = nullptr; },
                "'rows[0].decode_tokens_per_second'", "must be a number");
        refused([](nlohmann::json &j) { j["schema"] = "something-else"; }, "'schema'", "expected");
        refused([](nlohmann::json &j) { j["rows"] = nlohmann::json::object(); }, "'rows'", "must be an array");
        refused([](nlohmann::json &j) { j = nlohmann::json::array(); }, "(document)", "must be an object");
        refused([](nlohmann::json &j) { j["model"]["config"].erase("hidden_size"); }, "hidden_size", "missing");
        // Absurd values (issue 11): refused with the field and the accepted range.
        refused([](nlohmann::json &j) { j["rows"][0]["batch_size"] = -1; }, "'rows[0].batch_size'", "out of range");
        refused([](nlohmann::json &j) { j["rows"][0]["prefill_length"] = 10000000000000LL; },
                "'rows[0].prefill_length'", "out of range");
        refused([](nlohmann::json &j) { j["plan"]["batch_sizes"][0] = -4; }, "'plan.batch_sizes[0]'", "out of range");
        refused([](nlohmann::json &j) { j["rows"][0]["prefill_tokens_per_second"] = -5.0; },
                "'rows[0].prefill_tokens_per_second'", "out of range");
        refused([](nlohmann::json &j) { j["machine"]["threads"] = 10000000; }, "'machine.threads'", "out of range");
        refused([](nlohmann::json &j) { j["rows"][0]["batch_size"] = nlohmann::json::parse("[[[1]]]"); },
                "'rows[0].batch_size'", "an array of 1 items");
        refused([](nlohmann::json &j) { j["model"]["config"]["num_hidden_layers"] = 100000; }, "num_hidden_layers",
                "out of range");
    }

    // The wizard's memory figures against measured peaks (docs/benchmarks.md): quantizing
    // TinyLlama-1.1B took 3.43 GiB, the demo model 637 MiB (`/usr/bin/time -v awq quantize`),
    // in a process holding the baseline. The estimate is an upper bound, not far above.
    void memoryEstimatesMatchMeasuredPeaks()
    {
        const double gib = 1024.0 * 1024.0 * 1024.0;
        const ModelConfig tiny = syntheticConfig("tinyllama-1.1b");
        const MemoryEstimate e = estimateMemory(tiny, 128, 18432, 0, kProcessBaselineBytes);
        const double tinyRatio = double(e.quantizeCpu) / gib / 3.43;
        QVERIFY2(tinyRatio >= 1.0 && tinyRatio < 1.2, qPrintable(QString::number(e.quantizeCpu / gib)));
        ModelConfig demo = tiny;
        demo.hiddenSize = 256;
        demo.intermediateSize = 768;
        demo.numLayers = 4;
        demo.numHeads = 8;
        demo.numKvHeads = 4;
        demo.headDim = 32;
        demo.vocabSize = 4096;
        demo.maxPositionEmbeddings = 256;
        const MemoryEstimate d = estimateMemory(demo, 128, 17920, 0, kProcessBaselineBytes);
        const double demoRatio = double(d.quantizeCpu) / double(637ull << 20);
        QVERIFY2(demoRatio >= 1.0 && demoRatio < 1.2, qPrintable(QString::number(d.quantizeCpu >> 20)));
        // Running: 4-bit well under full precision; fp16 on a GPU about 2 bytes a parameter.
        QVERIFY(e.int4Cpu < e.fp32Cpu / 3);
        QVERIFY(e.int4Gpu < e.fp16Gpu / 2);
        QVERIFY(std::abs(double(e.fp16Gpu) / (2.0 * double(tiny.parameterCount())) - 1.0) < 0.15);
        QCOMPARE(e.context, int64_t(2048));
        // More calibration data, more memory.
        QVERIFY(estimateMemory(tiny, 128, 2 * 18432, 0, kProcessBaselineBytes).quantizeCpu > e.quantizeCpu);
    }

    // Issue 23, bug 6: the memory a build is checked against is an upper bound of the
    // process's peak above what it held before, making the build included (the synthetic
    // lm_head rounded to fp16 values, the decoder keeping it in fp16 and stacking q/k/v and
    // gate/up), for each packing. A tiny shape with a large vocabulary, so that the lm_head
    // is most of the model as it is of TinyLlama's int4 build; the runner's own sequence.
    void memoryNeedBoundsTheMeasuredPeak_data()
    {
        QTest::addColumn<int>("variant");
        QTest::newRow("gemm") << int(Variant::Gemm);
        QTest::newRow("gemv") << int(Variant::Gemv);
        QTest::newRow("fp32") << int(Variant::Fp32);
    }
    void memoryNeedBoundsTheMeasuredPeak()
    {
        QFETCH(int, variant);
        const Variant v = Variant(variant);
        ModelConfig c = syntheticConfig("tiny");
        c.vocabSize = 32768; // lm_head 32 MiB in fp32
        BenchPlan plan;
        plan.syntheticShape = "tiny";
        plan.variants = {v};
        plan.prefillLengths = {64};
        plan.decodeLength = 8;
        const MemoryNeed need = estimatePlanMemory(plan, c, v);
        releaseFreeMemory();
        const uint64_t before = currentRssBytes();
        if (!resetPeakRss())
            QSKIP("the kernel does not let this process reset its peak RSS (/proc/self/clear_refs)");
        {
            auto model = buildSyntheticModel(c, v, plan.groupSize, 5);
            const std::unique_ptr<DecoderModel> decoder = makeDecoder(std::move(model), DecoderKind::Fused, false, 1, 72);
            decoder->prefill(at::randint(c.vocabSize, {1, 64}, at::kLong));
            for (int i = 0; i < 8; ++i)
                decoder->decodeStep(at::randint(c.vocabSize, {1, 1}, at::kLong));
        }
        const uint64_t peak = peakRssBytes() - before;
        QVERIFY2(peak <= need.total(), qPrintable(QStringLiteral("peak %1 MiB above the start, estimate %2 MiB")
                                                      .arg(double(peak) / (1 << 20), 0, 'f', 1)
                                                      .arg(double(need.total()) / (1 << 20), 0, 'f', 1)));
        qInfo("%s: peak %.1f MiB above the start, estimate %.1f MiB", variantName(v), double(peak) / (1 << 20),
              double(need.total()) / (1 << 20));
    }

    void aFolderIsConvertedToEachBuild()
    {
        FixtureSpec spec;
        spec.numKvHeads = 2;
        const auto folder = makeFixtureModel(makeTempDir("bench") / "model", spec);
        BenchPlan plan;
        plan.modelFolder = folder;
        plan.groupSize = 32;
        plan.prefillLengths = {8};
        plan.decodeLength = 2;
        plan.repeats = 1;
        const BenchReport r = runBenchmark(plan);
        QCOMPARE(r.rows.size(), size_t(3));
        QVERIFY2(contains(r.variants[2].weights, "round-to-nearest") && contains(r.variants[2].weights, "speed only"),
                 r.variants[2].weights.c_str());
        QVERIFY(contains(r.variants[0].weights, "fp32 as loaded"));
    }

    // at::parallel_for forks only in files compiled with OpenMP (cmake/AwqDependencies.cmake):
    // without it the engine ran every "2-thread" benchmark and chat on one thread.
    void parallelLoopsUseTheConfiguredThreads()
    {
        QCOMPARE(configureThreads(2), 2);
        QCOMPARE(parallelThreadsInUse(), 2);
        QCOMPARE(configureThreads(1), 1);
        QCOMPARE(parallelThreadsInUse(), 1);
        configureThreads(2);
        QCOMPARE(describeMachine().threads, 2);
        // ... and BLAS runs on the same OpenMP threads instead of a pool of its own.
        QVERIFY2(!blasRunsItsOwnThreads(), ("LibTorch's BLAS is " + blasDescription() +
                                             "; scripts/setup-deps.sh selects libopenblas0-openmp").c_str());
    }

    void bandwidthIsMeasured()
    {
        const BandwidthResult b = measureReadBandwidth(2, 64 << 20, 2);
        QVERIFY(positiveFinite(b.gbPerSecond));
        QCOMPARE(b.bytes, uint64_t(64 << 20));
        QCOMPARE(b.threads, 2);
    }

    void kernelBenchCoversEveryKernelAndRestoresSettings()
    {
        const int64_t limit = QuantLinear::gemvMaxRows();
        const auto isa = QuantLinear::isa();
        KernelBenchOptions o;
        o.shapes = parseKernelShapes("256x128");
        o.rows = {1, 16};
        o.warmup = 0;
        o.minRepeats = 1;
        o.minSeconds = 0;
        o.coldBytes = 0; // one copy: fast, cache-warm
        int isas = 0;
        for (auto i : kernels::kAllCpuIsas)
            isas += kernels::cpuIsaSupported(i) ? 1 : 0;
        const auto rows = runKernelBench(o);
        // Per row count: fp32, then 2 packings x ISAs x (gemv kernel + panel path), and with
        // AVX-512 VNNI the int8 path as well.
        const int int8 = kernels::cpuIsaSupported(kernels::CpuIsa::Avx512Vnni) ? 1 : 0;
        QCOMPARE(rows.size(), size_t(2 * (1 + 2 * (isas * 2 + int8))));
        QCOMPARE(int(std::count_if(rows.begin(), rows.end(), [](const auto &r) { return r.kernel == "int8"; })),
                 4 * int8);
        for (const auto &row : rows) {
            QVERIFY(positiveFinite(row.seconds) && positiveFinite(row.weightGBPerSecond) && positiveFinite(row.gflops));
            QCOMPARE(row.inFeatures, int64_t(256));
        }
        QCOMPARE(QuantLinear::gemvMaxRows(), limit);
        QVERIFY(QuantLinear::isa() == isa);
        QVERIFY(contains(formatKernelTable(rows, 10.0), "% of stream"));
        QCOMPARE(lines(kernelRowsToCsv(rows)).size(), rows.size() + 1);
        QCOMPARE(catchError([] { parseKernelShapes("256x"); }).code, ErrorCode::InvalidArgument);
    }
};

QTEST_APPLESS_MAIN(TestBench)
#include "tst_bench.moc"
