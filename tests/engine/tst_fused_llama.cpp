// QuantLinear (the int4 kernels behind the nn.Linear interface) and FusedCpuDecoder (the fused
// CPU decoder) against the unfused reference path: same numbers, both packings, both
// kernels, and a decode step that allocates no tensor storage.

#include <atomic>

#include <ATen/ATen.h>
#include <QtTest>
#include <c10/core/CPUAllocator.h>

#include "awq/kernels/awq_unpack.h"
#include "awq/runtime/decoder_model.h"
#include "awq/kernels/half.h"
#include "awq/nn/fused_cpu_decoder.h"
#include "awq/nn/half_linear.h"
#include "awq/nn/int8_linear.h"
#include "awq/nn/kv_cache.h"
#include "awq/nn/reference_model.h"
#include "awq/nn/quant_linear.h"
#include "awq/quant/quantize_job.h"
#include "awq/runtime/generator.h"
#include "awq/runtime/loaded_model.h"
#include "fixture_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace awq;
using awq::kernels::W4Packing;
using awq::test::contains;

namespace {

// A random packed linear in `packing` with codes/zeros/scales drawn from `seed`.
std::unique_ptr<QuantLinear> randomQuantLinear(W4Packing packing, int K, int N, int g, uint64_t seed,
                                               bool bias = false)
{
    at::manual_seed(seed);
    const int G = K / g;
    auto codes = at::randint(0, 16, {N, K}, at::kByte).contiguous();
    auto zeros = at::randint(0, 16, {N, G}, at::kByte).contiguous();
    auto scales = (at::rand({N, G}) * 0.05 + 0.001).to(at::kHalf).contiguous(); // [N][G]
    at::Tensor qweight, qzeros, packedScales;
    if (packing == W4Packing::Gemm) {
        qweight = at::empty({K, N / 8}, at::kInt);
        qzeros = at::empty({G, N / 8}, at::kInt);
        kernels::pack_gemm(codes.data_ptr<uint8_t>(), K, N, qweight.data_ptr<int32_t>());
        kernels::pack_gemm_zeros(zeros.data_ptr<uint8_t>(), G, N, qzeros.data_ptr<int32_t>());
        packedScales = scales.t().contiguous();
    } else {
        const int zw = kernels::gemvZerosWidth(K, g);
        qweight = at::empty({N, K / 8}, at::kInt);
        qzeros = at::empty({N, zw}, at::kInt);
        kernels::pack_gemv(codes.data_ptr<uint8_t>(), K, N, qweight.data_ptr<int32_t>());
        kernels::pack_gemv_zeros(zeros.data_ptr<uint8_t>(), K, N, g, qzeros.data_ptr<int32_t>());
        packedScales = at::zeros({N, zw * 8}, at::kHalf);
        packedScales.narrow(1, 0, G).copy_(scales);
    }
    return std::make_unique<QuantLinear>(packing, K, N, g, qweight, qzeros, packedScales,
                                         bias ? at::randn({N}) : at::Tensor());
}

double relativeError(const at::Tensor &got, const at::Tensor &want)
{
    return (got.to(at::kDouble) - want.to(at::kDouble)).abs().max().item<double>() /
           std::max(want.to(at::kDouble).abs().max().item<double>(), 1e-30);
}

// Counts tensor-storage allocations made through the CPU allocator while installed.
struct CountingAllocator final : at::Allocator {
    at::Allocator *inner = nullptr;
    mutable std::atomic<int64_t> count{0};
    at::DataPtr allocate(size_t n) const override
    {
        ++count;
        return inner->allocate(n);
    }
    at::DeleterFnPtr raw_deleter() const override { return inner->raw_deleter(); }
};

} // namespace

// Runs f once per instruction set this CPU has, with QuantLinear (and the linears that follow
// its choice) set to it; the choice is restored afterwards.
template <typename F>
void forEachCpuIsa(F f)
{
    const kernels::CpuIsa saved = QuantLinear::isa();
    for (kernels::CpuIsa isa : kernels::kAllCpuIsas) {
        if (!kernels::cpuIsaSupported(isa))
            continue;
        QuantLinear::setIsa(isa);
        f(isa);
    }
    QuantLinear::setIsa(saved);
}

class TestFusedCpuDecoder : public QObject
{
    Q_OBJECT

    fs::path m_root, m_model, m_quantGemm, m_quantGemv;

    static at::Tensor randomIds(int64_t batch, int64_t t, int64_t vocab, uint64_t seed)
    {
        at::manual_seed(seed);
        return at::randint(0, vocab, {batch, t}, at::kLong);
    }

    // Last-position logits of the unfused model over a prompt then `steps` greedy-free
    // decode steps with the given ids, and the fused model's, side by side.
    void compareWithUnfused(const fs::path &folder, int64_t batch, double tolerance,
                            Int4Layout layout = Int4Layout::AsStored)
    {
        LoadedModel reference = loadModel(folder);
        LoadedModel toFuse = loadModel(folder);
        const ModelConfig config = reference.config;
        FusedCpuDecoder fused(std::move(toFuse.model), batch, 64, layout);
        QVERIFY(contains(fused.describe(), "fused"));
        KVCache cache(config, batch, 64);
        const at::Tensor prompt = randomIds(batch, 9, config.vocabSize, 7);
        auto want = reference.model->forward(prompt, &cache, /*lastOnly=*/true).squeeze(1);
        auto got = fused.prefill(prompt);
        QVERIFY2(relativeError(got, want) < tolerance, (folder.filename().string() + " prefill").c_str());
        double maxAbs = (got - want).abs().max().item<double>();
        for (int step = 0; step < 5; ++step) {
            const at::Tensor next = randomIds(batch, 1, config.vocabSize, 100 + step);
            want = reference.model->forward(next, &cache, true).squeeze(1);
            got = fused.decodeStep(next);
            const double err = relativeError(got, want);
            maxAbs = std::max(maxAbs, (got - want).abs().max().item<double>());
            QVERIFY2(err < tolerance,
                     (folder.filename().string() + " decode step " + std::to_string(step) + ": " + std::to_string(err))
                         .c_str());
        }
        QCOMPARE(fused.length(), int64_t{14});
        // Through the decoder interface: truncating to the prompt and decoding the first
        // step again gives that step's logits again, and scoring every position of the
        // prompt (perplexity) agrees with the reference decoder's.
        fused.truncate(9);
        const at::Tensor first = randomIds(batch, 1, config.vocabSize, 100);
        ReferenceDecoder referenceDecoder(*reference.model, batch, 64);
        referenceDecoder.prefill(prompt);
        QVERIFY(relativeError(fused.decodeStep(first), referenceDecoder.decodeStep(first)) < tolerance);
        const at::Tensor allGot = fused.score(prompt).clone(), allWant = referenceDecoder.score(prompt);
        QCOMPARE(allGot.sizes(), allWant.sizes());
        QVERIFY2(relativeError(allGot, allWant) < tolerance, (folder.filename().string() + " score").c_str());
        QCOMPARE(fused.length(), int64_t{0});
        qInfo("%s batch %d: fused vs unfused max |dlogit| %.3g", folder.filename().string().c_str(), int(batch), maxAbs);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_root = test::makeTempDir("fused_llama");
        test::FixtureSpec spec;
        spec.numKvHeads = 2; // GQA: two query heads per KV head
        spec.intermediateSize = 192;
        m_model = test::makeFixtureModel(m_root / "fp", spec);
        const fs::path calib = m_root / "calib.txt";
        test::writeFile(calib, test::fixtureCorpus());
        auto rtn = [&](const fs::path &model, const fs::path &out, const char *version) {
            QuantOptions o;
            o.modelFolder = model;
            o.outputFolder = out;
            o.method = QuantMethod::Rtn;
            o.version = version;
            o.quantizer.groupSize = 32;
            o.calibration.source = {CalibrationSource::Kind::TextFile, calib, "text"};
            o.calibration.nSamples = 8;
            o.calibration.seqLen = 64;
            o.threads = 1;
            quantizeModel(o);
            return o.outputFolder;
        };
        m_quantGemm = rtn(m_model, m_root / "rtn-gemm", "gemm");
        m_quantGemv = rtn(m_model, m_root / "rtn-gemv", "gemv");
        // qwen3 (per-head q/k norms, head_dim != hidden / heads) and gemma ((1 + w) norms,
        // scaled embeddings, tanh-GELU, tied), each in full precision and RTN-packed.
        spec.modelType = "qwen3";
        spec.headDim = 24;
        rtn(test::makeFixtureModel(m_root / "qwen3-fp", spec), m_root / "qwen3-rtn", "gemm");
        spec.modelType = "gemma";
        spec.headDim = 32;
        spec.numKvHeads = 1;
        spec.tieWordEmbeddings = true;
        rtn(test::makeFixtureModel(m_root / "gemma-fp", spec), m_root / "gemma-rtn", "gemv");
        // gemma2: extra norms, soft-capped attention and logits, a window of 5 on even layers.
        spec.modelType = "gemma2";
        spec.numKvHeads = 2;
        rtn(test::makeFixtureModel(m_root / "gemma2-fp", spec), m_root / "gemma2-rtn", "gemm");
        // gemma3: (1 + w) q/k norms, local layers (window 5 over 14 positions, their own RoPE
        // base) and a global one (rope_scaling x8); the text part of a multimodal folder too.
        spec.modelType = "gemma3_text";
        spec.numLayers = 3;
        spec.slidingWindowPattern = 3;
        rtn(test::makeFixtureModel(m_root / "gemma3-fp", spec), m_root / "gemma3-rtn", "gemm");
        spec.modelType = "gemma3";
        spec.savedLayout = true;
        rtn(test::makeFixtureModel(m_root / "gemma3mm-fp", spec), m_root / "gemma3mm-rtn", "gemv");
        // phi3: qkv_proj and gate_up_proj stored stacked (taken over as they are).
        spec = {};
        spec.modelType = "phi3";
        spec.numKvHeads = 2;
        spec.intermediateSize = 192;
        rtn(test::makeFixtureModel(m_root / "phi3-fp", spec), m_root / "phi3-rtn", "gemv");
    }

    // Both kernels (few rows: GEMV-style; many rows: dequantize + BLAS), both packings,
    // against x · Wᵀ with the exact dequantized weight.
    void quantLinearMatchesDequantized_data()
    {
        QTest::addColumn<int>("packing");
        QTest::addColumn<int>("rows");
        for (int p : {0, 1})
            for (int rows : {1, 3, 8, 9, 40})
                QTest::addRow("%s rows=%d", p == 0 ? "gemm" : "gemv", rows) << p << rows;
    }
    void quantLinearMatchesDequantized()
    {
        QFETCH(int, packing);
        QFETCH(int, rows);
        auto linear = randomQuantLinear(packing == 0 ? W4Packing::Gemm : W4Packing::Gemv, 256, 136, 64, 3, true);
        const at::Tensor x = at::randn({rows, 256});
        const at::Tensor want = at::linear(x.to(at::kDouble), linear->dequantized().to(at::kDouble),
                                           linear->bias().to(at::kDouble));
        // The float paths (the int8-activation one, default on VNNI, has its own bound:
        // prefillKernelChoiceDoesNotChangeResults and tst_w4_kernels).
        const bool savedInt8 = QuantLinear::int8Prefill();
        QuantLinear::setInt8Prefill(false);
        const double err = relativeError(linear->forward(x), want);
        QuantLinear::setInt8Prefill(savedInt8);
        QVERIFY2(err < 1e-4, std::to_string(err).c_str());
        // 3-D input keeps its leading shape.
        QCOMPARE(test::shape(linear->forward(x.view({1, rows, 256}))), (test::Shape{1, rows, 136}));
    }

    void quantLinearDescribesItselfAndRejectsBadTensors()
    {
        auto linear = randomQuantLinear(W4Packing::Gemv, 128, 64, 32, 1);
        QCOMPARE(QString::fromStdString(linear->describe()), QString("int4 gemv g32 [128 -> 64]"));
        const auto t = test::catchError([&] {
            QuantLinear bad(W4Packing::Gemm, 128, 64, 32, linear->qweight(), linear->qzeros(), linear->scales());
        });
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Format);
        QVERIFY2(contains(t.message, "qweight has shape"), t.message.c_str());
        const auto half = test::catchError([&] { linear->forward(at::randn({2, 128}).to(at::kHalf)); });
        QCOMPARE(half.code, ErrorCode::InvalidArgument);
    }

    // Stacking q/k/v (or gate/up) gives the concatenation of the separate outputs.
    void stackedLinearsConcatenateOutputs()
    {
        for (W4Packing p : {W4Packing::Gemm, W4Packing::Gemv}) {
            auto a = randomQuantLinear(p, 128, 64, 32, 11), b = randomQuantLinear(p, 128, 32, 32, 12, true);
            auto stacked = stackOutputs({a.get(), b.get()});
            const at::Tensor x = at::randn({2, 128});
            const at::Tensor want = at::cat({a->forward(x), b->forward(x)}, 1);
            QVERIFY(at::allclose(stacked->forward(x), want, 1e-5, 1e-5));
        }
        DenseLinear d1(at::randn({16, 8})), d2(at::randn({8, 8}), at::randn({8}));
        auto dense = stackOutputs({&d1, &d2});
        const at::Tensor x = at::randn({3, 8});
        QVERIFY(at::allclose(dense->forward(x), at::cat({d1.forward(x), d2.forward(x)}, 1), 1e-5, 1e-5));
        auto q = randomQuantLinear(W4Packing::Gemm, 8 * 16, 8, 16, 1);
        QCOMPARE(test::catchError([&] { stackOutputs({&d1, q.get()}); }).code, ErrorCode::InvalidArgument);
    }

    // fp16-weight linear (the quantized models' lm_head) against float64 over the same values.
    void halfLinearMatchesReference()
    {
        const at::Tensor w = (at::randn({200, 136}) * 0.05).to(at::kHalf).to(at::kFloat);
        QVERIFY(HalfLinear::isExactlyHalf(w));
        QVERIFY(!HalfLinear::isExactlyHalf(w + 1e-4));
        HalfLinear linear(w);
        QCOMPARE(linear.weightBytes(), uint64_t{200 * 136 * 2});
        forEachCpuIsa([&](kernels::CpuIsa isa) {
            for (int rows : {1, 3, 9}) {
                const at::Tensor x = at::randn({rows, 136});
                const at::Tensor want = at::linear(x.to(at::kDouble), w.to(at::kDouble));
                QVERIFY2(relativeError(linear.forward(x), want) < 1e-5,
                         (std::string(kernels::cpuIsaName(isa)) + " rows " + std::to_string(rows)).c_str());
            }
        });
    }

    // The --lm-head int8 weight (per 128 inputs, s = max|w| / 127) against float64: the product
    // of its own weights within the fixed-point activations' rounding, and the source weight
    // within half a step per element.
    void int8LinearMatchesItsWeights()
    {
        const at::Tensor w = at::randn({200, 256}) * 0.05;
        Int8Linear linear(w);
        QCOMPARE(linear.weightBytes(), uint64_t{200 * 256 + 200 * 2 * 4});
        QVERIFY2(contains(linear.describe(), "int8 b128 [256 -> 200]"), linear.describe().c_str());
        const at::Tensor deq = linear.dequantized();
        const at::Tensor step = w.abs().view({200, 2, 128}).amax(-1, true) / 127.0;
        QVERIFY(((deq - w).view({200, 2, 128}).abs() <= step * 0.5 + 1e-7).all().item<bool>());
        forEachCpuIsa([&](kernels::CpuIsa isa) {
            for (int rows : {1, 3, 9}) {
                const at::Tensor x = at::randn({rows, 256});
                const at::Tensor want = at::linear(x.to(at::kDouble), deq.to(at::kDouble));
                QVERIFY2(relativeError(linear.forward(x), want) < 1e-4,
                         (std::string(kernels::cpuIsaName(isa)) + " rows " + std::to_string(rows)).c_str());
            }
        });
        QVERIFY_THROWS_EXCEPTION(Error, Int8Linear(at::randn({8, 100})));
        QCOMPARE(parseLmHeadFormat("int8"), LmHeadFormat::Int8);
        QVERIFY_THROWS_EXCEPTION(Error, parseLmHeadFormat("int4"));
    }

    // With --lm-head int8 a quantized model's decoder holds its lm_head as int8 where the CPU has
    // VNNI (as stored elsewhere, and always for a full-precision model), and its logits stay within
    // the weight's rounding of the source head's.
    void int8LmHeadKeepsTheLogits()
    {
        test::FixtureSpec spec;
        spec.hiddenSize = 128;
        spec.intermediateSize = 256;
        const fs::path fp = test::makeFixtureModel(m_root / "h128-fp", spec);
        QuantOptions o;
        o.modelFolder = fp;
        o.outputFolder = m_root / "h128-rtn";
        o.method = QuantMethod::Rtn;
        o.version = "gemv";
        o.calibration.source = {CalibrationSource::Kind::TextFile, m_root / "calib.txt", "text"};
        o.calibration.nSamples = 8;
        o.calibration.seqLen = 64;
        o.threads = 1;
        quantizeModel(o);
        const LmHeadFormat saved = lmHeadFormat();
        setLmHeadFormat(LmHeadFormat::Source);
        FusedCpuDecoder source(loadModel(o.outputFolder).model, 1, 32);
        setLmHeadFormat(LmHeadFormat::Int8);
        FusedCpuDecoder int8(loadModel(o.outputFolder).model, 1, 32);
        FusedCpuDecoder fullPrecision(loadModel(fp).model, 1, 32);
        setLmHeadFormat(saved);
        QVERIFY2(!contains(source.describe(), "int8"), source.describe().c_str());
        QVERIFY2(!contains(fullPrecision.describe(), "int8"), fullPrecision.describe().c_str());
        if (!Int8Linear::int8Available(128)) {
            QVERIFY2(!contains(int8.describe(), "int8"), int8.describe().c_str());
            QSKIP("no AVX-512 VNNI: the int8 lm_head is not used here");
        }
        QVERIFY2(contains(int8.describe(), "lm_head int8"), int8.describe().c_str());
        QVERIFY(int8.tokenWeightBytes() < source.tokenWeightBytes());
        const at::Tensor ids = randomIds(1, 12, 256, 3);
        const at::Tensor want = source.score(ids).clone(), got = int8.score(ids).clone();
        const double err = relativeError(got, want);
        qInfo("int8 lm_head vs source: max |dlogit| / max |logit| = %.2e", err);
        QVERIFY2(err > 0 && err < 2e-2, std::to_string(err).c_str());
        QCOMPARE(got.argmax(-1).eq(want.argmax(-1)).sum().item<int64_t>(), int64_t{12});
    }

    void quantizedCheckpointsLoadAsQuantLinear()
    {
        for (const fs::path &folder : {m_quantGemm, m_quantGemv}) {
            LoadedModel m = loadModel(folder);
            const std::string d = m.model->layer(0).linear(LinearRole::Q)->describe();
            QVERIFY2(contains(d, "int4") && contains(d, folder.filename().string().substr(4)), d.c_str());
        }
    }

    void fusedMatchesUnfused_data()
    {
        QTest::addColumn<QString>("which");
        QTest::addColumn<int>("batch");
        for (const char *which : {"fp", "rtn-gemm", "rtn-gemv", "qwen3-fp", "qwen3-rtn", "gemma-fp", "gemma-rtn",
                                  "gemma2-fp", "gemma2-rtn", "phi3-fp", "phi3-rtn", "gemma3-fp", "gemma3-rtn",
                                  "gemma3mm-fp", "gemma3mm-rtn"})
            for (int batch : {1, 3})
                QTest::addRow("%s batch=%d", which, batch) << QString(which) << batch;
    }
    void fusedMatchesUnfused()
    {
        QFETCH(QString, which);
        QFETCH(int, batch);
        compareWithUnfused(m_root / which.toStdString(), batch, 1e-4);
    }

    // A GEMM-packed linear repacked to GEMV holds exactly the same weights; group sizes the
    // GEMV packing cannot hold are left alone.
    void gemmRepacksToGemv()
    {
        for (int group : {32, 64, 128, 256}) {
            auto gemm = randomQuantLinear(W4Packing::Gemm, 256, 136, group, 21, true);
            auto gemv = repackedAsGemv(*gemm);
            QVERIFY(gemv);
            QCOMPARE(gemv->packing(), W4Packing::Gemv);
            QVERIFY(at::equal(gemv->dequantized(), gemm->dequantized()));
            QVERIFY(at::equal(gemv->bias(), gemm->bias()));
            // The kernels read the repacked codes: at every ISA the outputs agree within the
            // activations' rounding (g128 on VNNI: the int8 copy, Note [int8 activations]
            // in kernels/cpu/w4_avx512_vnni.cpp, within max|x| / 254 per input).
            const at::Tensor x = at::randn({1, 256});
            forEachCpuIsa([&](kernels::CpuIsa isa) {
                const bool int8 = isa == kernels::CpuIsa::Avx512Vnni && group == 128;
                const double err = relativeError(gemv->forward(x), gemm->forward(x));
                QVERIFY2(err < (int8 ? 1e-2 : 1e-4), (std::string(kernels::cpuIsaName(isa)) + " g" +
                                                      std::to_string(group) + ": " + std::to_string(err)).c_str());
            });
            QVERIFY(!repackedAsGemv(*gemv)); // already GEMV
        }
        QVERIFY(!repackedAsGemv(*randomQuantLinear(W4Packing::Gemm, 128, 64, 16, 22)));
    }

    // Chat and generate repack GEMM checkpoints: the logits stay those of the unfused model.
    void fusedRepackedGemmMatchesUnfused()
    {
        compareWithUnfused(m_quantGemm, 1, 1e-4, Int4Layout::Gemv);
        FusedCpuDecoder fused(loadModel(m_quantGemm).model, 1, 16, Int4Layout::Gemv);
        QVERIFY2(contains(fused.describe(), "int4 gemv") && contains(fused.describe(), "repacked"),
                 fused.describe().c_str());
        FusedCpuDecoder stored(loadModel(m_quantGemm).model, 1, 16);
        QVERIFY2(contains(stored.describe(), "int4 gemm"), stored.describe().c_str());
    }

    // The unfused model with QuantLinear on the few-rows kernel and on the BLAS path agree;
    // the int8-activation path (AVX-512 VNNI) within its activation rounding.
    void prefillKernelChoiceDoesNotChangeResults()
    {
        LoadedModel m = loadModel(m_quantGemv);
        const at::Tensor ids = randomIds(1, 20, m.config.vocabSize, 5);
        const int64_t saved = QuantLinear::gemvMaxRows();
        const bool savedInt8 = QuantLinear::int8Prefill();
        QuantLinear::setGemvMaxRows(0);
        QuantLinear::setInt8Prefill(false);
        const at::Tensor panels = m.model->forward(ids);
        QuantLinear::setInt8Prefill(true);
        const at::Tensor int8 = m.model->forward(ids);
        QuantLinear::setInt8Prefill(savedInt8);
        QuantLinear::setGemvMaxRows(1 << 20);
        const at::Tensor gemv = m.model->forward(ids);
        QuantLinear::setGemvMaxRows(saved);
        QVERIFY(relativeError(panels, gemv) < 1e-4);
        const double err = relativeError(int8, gemv);
        qInfo("int8 prefill path vs float: max |dlogit| / max |logit| = %.2e", err);
        QVERIFY2(err < 1e-2, std::to_string(err).c_str());
    }

    // Greedy generation through the fused decoder picks the same tokens as the reference path.
    void generatorOnFusedMatchesReference()
    {
        for (const fs::path &folder :
             {m_model, m_quantGemm, m_root / "qwen3-rtn", m_root / "gemma-fp", m_root / "gemma2-rtn", m_root / "phi3-rtn",
              m_root / "gemma3-rtn", m_root / "gemma3mm-rtn"}) {
            LoadedModel reference = loadModel(folder);
            LoadedModel toFuse = loadModel(folder);
            FusedCpuDecoder fused(std::move(toFuse.model));
            GenerationRequest request;
            request.promptIds = reference.tokenizer->encode("the quick brown fox", true);
            request.sampling.maxNewTokens = 24;
            request.stopAtEos = false;
            ReferenceDecoder referenceDecoder(*reference.model);
            const GenerationResult want = Generator(referenceDecoder, *reference.tokenizer).generate(request);
            const GenerationResult got = Generator(fused, *toFuse.tokenizer).generate(request);
            QCOMPARE(got.tokens, want.tokens);
            QCOMPARE(got.text, want.text);
            QCOMPARE(got.tokens.size(), size_t{24});
        }
    }

    void decodeStepAllocatesNoTensorStorage()
    {
        for (const fs::path &folder :
             {m_model, m_quantGemv, m_root / "qwen3-rtn", m_root / "gemma-rtn", m_root / "gemma2-fp",
              m_root / "gemma3mm-rtn"}) {
            LoadedModel m = loadModel(folder);
            FusedCpuDecoder fused(std::move(m.model), 2, 32);
            fused.prefill(randomIds(2, 4, fused.config().vocabSize, 1));
            const at::Tensor next = randomIds(2, 1, fused.config().vocabSize, 2);
            fused.prefill(next); // warm: thread pools, workspaces
            CountingAllocator counting;
            counting.inner = c10::GetCPUAllocator();
            c10::SetCPUAllocator(&counting, /*priority=*/100);
            for (int i = 0; i < 5; ++i)
                fused.prefill(next);
            c10::SetCPUAllocator(counting.inner, 100);
            QVERIFY2(counting.count.load() == 0, (folder.filename().string() + ": " +
                                                  std::to_string(counting.count.load()) + " allocations in 5 steps")
                                                     .c_str());
            // The counter itself works: a prefill allocates.
            c10::SetCPUAllocator(&counting, 100);
            fused.prefill(randomIds(2, 3, fused.config().vocabSize, 3));
            c10::SetCPUAllocator(counting.inner, 100);
            QVERIFY(counting.count.load() > 0);
        }
    }

    void clearErrors()
    {
        LoadedModel m = loadModel(m_model);
        const int64_t vocab = m.config.vocabSize;
        FusedCpuDecoder fused(std::move(m.model), 1, 8);
        fused.prefill(randomIds(1, 6, vocab, 1));
        auto overflow = test::catchError([&] { fused.prefill(randomIds(1, 3, vocab, 2)); });
        QCOMPARE(overflow.code, ErrorCode::InvalidArgument);
        QVERIFY2(contains(overflow.message, "exceeds the KV cache size of 8"), overflow.message.c_str());
        QCOMPARE(fused.length(), int64_t{6}); // nothing was consumed
        auto batch = test::catchError([&] { fused.prefill(randomIds(2, 1, vocab, 2)); });
        QVERIFY2(contains(batch.message, "batch of 2"), batch.message.c_str());
        auto badId = test::catchError([&] { fused.prefill(at::full({1, 1}, vocab, at::kLong)); });
        QVERIFY2(contains(badId.message, "outside the vocabulary"), badId.message.c_str());
        fused.truncate(2);
        fused.prefill(randomIds(1, 6, vocab, 4));
        QCOMPARE(fused.length(), int64_t{8});
    }
};

QTEST_GUILESS_MAIN(TestFusedCpuDecoder)
#include "tst_fused_llama.moc"
