// CudaDecoder (fp16 on a GPU, int4 kernels on the packed weights) against the float32 reference
// decoder on the CPU, for every architecture's fixture in full precision and RTN-packed
// (GEMM and GEMV): a prompt, decode steps, batch > 1, each row range the plan distinguishes
// (1..8 rows, 9..16 in two calls, > 16 dequantized), truncate, score. Skipped without a GPU;
// compiled and linked in every build that has nvcc (CI proves it builds).

#include <ATen/ATen.h>
#include <QtTest>

#include <cuda_runtime_api.h>

#include "awq/nn/cuda_decoder.h"
#include "awq/nn/reference_model.h"
#include "awq/quant/quantize_job.h"
#include "awq/runtime/decoder_model.h"
#include "awq/runtime/loaded_model.h"
#include "fixture_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace awq;
using awq::test::contains;

namespace {

double relativeError(const at::Tensor &got, const at::Tensor &want)
{
    return (got.to(at::kDouble) - want.to(at::kDouble)).abs().max().item<double>() /
           std::max(want.to(at::kDouble).abs().max().item<double>(), 1e-30);
}

at::Tensor randomIds(int64_t batch, int64_t t, int64_t vocab, uint64_t seed)
{
    at::manual_seed(seed);
    return at::randint(0, vocab, {batch, t}, at::kLong);
}

// fp16 activations against float32: a few parts in a thousand of the logits' range.
constexpr double kTolerance = 2e-2;

} // namespace

class TestCudaDecoder : public QObject
{
    Q_OBJECT

    fs::path m_root;
    std::vector<fs::path> m_models;

    void compare(const fs::path &folder, int64_t batch, int64_t promptLength)
    {
        const std::string name = folder.filename().string() + " batch " + std::to_string(batch) + " prompt " +
                                 std::to_string(promptLength);
        LoadedModel reference = loadModel(folder);
        LoadedModel toUpload = loadModel(folder);
        const ModelConfig config = reference.config;
        CudaDecoder gpu(std::move(toUpload.model), 0, batch, 64);
        QVERIFY(contains(gpu.describe(), "fp16 on cuda:0"));
        ReferenceDecoder cpu(*reference.model, batch, 64);
        const at::Tensor prompt = randomIds(batch, promptLength, config.vocabSize, 7);
        double worst = relativeError(gpu.prefill(prompt), cpu.prefill(prompt));
        QVERIFY2(worst < kTolerance, (name + " prefill: " + std::to_string(worst)).c_str());
        for (int step = 0; step < 4; ++step) {
            const at::Tensor next = randomIds(batch, 1, config.vocabSize, 100 + step);
            const double err = relativeError(gpu.decodeStep(next), cpu.decodeStep(next));
            worst = std::max(worst, err);
            QVERIFY2(err < kTolerance, (name + " decode step " + std::to_string(step) + ": " + std::to_string(err)).c_str());
        }
        QCOMPARE(gpu.length(), promptLength + 4);
        // Truncate to the prompt: the first step again gives the same logits (the cache
        // positions after it are overwritten, not appended).
        gpu.truncate(promptLength);
        cpu.truncate(promptLength);
        const at::Tensor first = randomIds(batch, 1, config.vocabSize, 100);
        QVERIFY(relativeError(gpu.decodeStep(first), cpu.decodeStep(first)) < kTolerance);
        const at::Tensor all = gpu.score(prompt);
        QCOMPARE(all.sizes(), cpu.score(prompt).sizes());
        QVERIFY2(relativeError(all, cpu.score(prompt)) < kTolerance, (name + " score").c_str());
        QCOMPARE(gpu.length(), int64_t{0});
        const DecoderMemory mem = gpu.memory();
        QVERIFY(mem.weightBytes > 0 && mem.kvCacheBytes == cuda::kvCacheBytes(config, batch, 64));
        qInfo("%s: worst relative |dlogit| %.3g; %s", name.c_str(), worst, gpu.describe().c_str());
    }

private Q_SLOTS:
    void initTestCase()
    {
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0)
            QSKIP("no CUDA GPU visible: the CUDA decoder is compiled and linked, not run");
        m_root = test::makeTempDir("cuda_decoder");
        const fs::path calib = m_root / "calib.txt";
        test::writeFile(calib, test::fixtureCorpus());
        auto add = [&](const std::string &tag, test::FixtureSpec spec, const char *packing) {
            const fs::path fp = test::makeFixtureModel(m_root / (tag + "-fp"), spec);
            m_models.push_back(fp);
            QuantOptions o;
            o.modelFolder = fp;
            o.outputFolder = m_root / (tag + "-" + packing);
            o.method = QuantMethod::Rtn;
            o.version = packing;
            o.quantizer.groupSize = 32;
            o.calibration.source = {CalibrationSource::Kind::TextFile, calib, "text"};
            o.calibration.nSamples = 8;
            o.calibration.seqLen = 64;
            o.threads = 1;
            quantizeModel(o);
            m_models.push_back(o.outputFolder);
        };
        test::FixtureSpec spec;
        spec.numKvHeads = 2;
        spec.intermediateSize = 192;
        add("llama", spec, "gemm");
        add("llama-v", spec, "gemv");
        spec.modelType = "mistral";
        add("mistral", spec, "gemv");
        spec.modelType = "qwen2"; // q/k/v biases
        add("qwen2", spec, "gemm");
        spec.modelType = "qwen3";
        spec.headDim = 24;
        add("qwen3", spec, "gemm");
        spec.modelType = "gemma";
        spec.headDim = 32;
        spec.numKvHeads = 1;
        spec.tieWordEmbeddings = true;
        add("gemma", spec, "gemv");
        spec.modelType = "gemma2";
        spec.numKvHeads = 2;
        add("gemma2", spec, "gemm");
        spec = {};
        spec.modelType = "phi3";
        spec.numKvHeads = 2;
        spec.intermediateSize = 192;
        add("phi3", spec, "gemv");
    }

    void matchesTheReference_data()
    {
        QTest::addColumn<int>("model");
        QTest::addColumn<int>("batch");
        QTest::addColumn<int>("prompt");
        for (int i = 0; i < static_cast<int>(m_models.size()); ++i) {
            const std::string tag = m_models[static_cast<size_t>(i)].filename().string();
            // rows = batch x prompt: 7 (decode kernels), 12 (two calls), 40 (dequantize + cuBLAS).
            QTest::addRow("%s 1x7", tag.c_str()) << i << 1 << 7;
            QTest::addRow("%s 3x4", tag.c_str()) << i << 3 << 4;
            QTest::addRow("%s 2x20", tag.c_str()) << i << 2 << 20;
        }
    }
    void matchesTheReference()
    {
        QFETCH(int, model);
        QFETCH(int, batch);
        QFETCH(int, prompt);
        compare(m_models[static_cast<size_t>(model)], batch, prompt);
    }

    void badInputsAreClearErrors()
    {
        LoadedModel loaded = loadModel(m_models.front());
        CudaDecoder gpu(std::move(loaded.model), 0, 1, 8);
        QCOMPARE(test::catchError([&] { gpu.prefill(randomIds(2, 3, 10, 1)); }).code, ErrorCode::InvalidArgument);
        QCOMPARE(test::catchError([&] { gpu.prefill(randomIds(1, 9, 10, 1)); }).code, ErrorCode::InvalidArgument);
        const at::Tensor outside = at::full({1, 1}, gpu.config().vocabSize, at::kLong);
        QVERIFY(contains(test::catchError([&] { gpu.prefill(outside); }).message, "outside the vocabulary"));
        QCOMPARE(test::catchError([&] { gpu.truncate(5); }).code, ErrorCode::InvalidArgument);
        LoadedModel other = loadModel(m_models.front());
        QCOMPARE(test::catchError([&] { CudaDecoder(std::move(other.model), 99); }).code, ErrorCode::Device);
    }
};

QTEST_GUILESS_MAIN(TestCudaDecoder)
#include "tst_cuda_decoder.moc"
