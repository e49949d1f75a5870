// The Llama-family forward against a loop-by-loop float64 reference, op by op and
// end to end, and KV-cache decoding against recomputing the whole sequence.

#include <QtTest>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/nn/kv_cache.h"
#include "awq/nn/llama_model.h"
#include "awq/nn/rope.h"
#include "awq/runtime/threads.h"
#include "fixture_model.h"
#include "reference_llama.h"

using namespace awq;
using awq::test::FixtureSpec;

namespace {

double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

struct Fixture {
    ModelConfig config;
    std::map<std::string, at::Tensor> weights; // as stored (any dtype)
    std::unique_ptr<WeightStore> store;
};

Fixture makeFixture(const FixtureSpec &spec, const std::string &tag)
{
    Fixture f;
    const auto folder = awq::test::makeFixtureModel(awq::test::makeTempDir(tag), spec);
    f.config = ModelConfig::load(folder);
    f.store = WeightStore::openFolder(folder);
    for (const auto &name : f.store->names())
        f.weights[name] = f.store->load(name, f.store->view(name).scalar_type());
    return f;
}

ModelConfig smallConfig()
{
    ModelConfig c;
    c.modelType = "llama";
    c.hiddenSize = 32;
    c.numHeads = 4;
    c.numKvHeads = 2;
    c.headDim = 8;
    c.numLayers = 1;
    c.intermediateSize = 64;
    c.vocabSize = 16;
    return c;
}

} // namespace

class TestLlamaForward : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureThreads(); }

    void rmsNormMatchesReference()
    {
        auto x = at::randn({5, 32}, at::kDouble);
        auto w = at::randn({32}, at::kDouble);
        QVERIFY(maxAbsDiff(rmsNorm(x, w, 1e-6), awq::test::refRmsNorm(x, w, 1e-6)) < 1e-12);
        // fp32 input: statistics in fp32, within fp32 rounding.
        QVERIFY(maxAbsDiff(rmsNorm(x.to(at::kFloat), w.to(at::kFloat), 1e-6), awq::test::refRmsNorm(x, w, 1e-6))
                < 1e-5);
    }

    void ropeMatchesReference_data()
    {
        QTest::addColumn<int>("scaling");
        QTest::addColumn<int>("start");
        QTest::newRow("plain") << 0 << 0;
        QTest::newRow("plain, offset") << 0 << 37;
        QTest::newRow("linear x4, offset") << 1 << 300;
        QTest::newRow("llama3, offset") << 2 << 5000;
    }
    void ropeMatchesReference()
    {
        QFETCH(int, scaling);
        QFETCH(int, start);
        ModelConfig c = smallConfig();
        c.headDim = 64;
        c.ropeTheta = 500000.0;
        if (scaling == 1) {
            c.ropeScaling.type = RopeScaling::Type::Linear;
            c.ropeScaling.factor = 4.0;
        } else if (scaling == 2) {
            c.ropeScaling.type = RopeScaling::Type::Llama3;
            c.ropeScaling.factor = 8.0;
            c.ropeScaling.originalMaxPositionEmbeddings = 64; // small, so every band is exercised
        }
        RotaryEmbedding rope(c);
        auto x = at::randn({1, 3, 6, 64}, at::kDouble);
        auto [cos, sin] = rope.cosSin(start, 6);
        auto ours = applyRotary(x, cos, sin);
        auto ref = awq::test::refRope(x[0], c, start);
        QVERIFY2(maxAbsDiff(ours[0], ref) < 1e-5, std::to_string(maxAbsDiff(ours[0], ref)).c_str());
        // Every frequency band of llama3 scaling is used by some pair.
        auto inv = ropeInverseFrequencies(c);
        for (int64_t i = 0; i < 32; ++i)
            QVERIFY(std::abs(inv[i].item<double>() - awq::test::refInverseFrequency(c, i))
                    <= 1e-6 * awq::test::refInverseFrequency(c, i));
    }

    void gqaAttentionMatchesReference_data()
    {
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("queries");
        QTest::addColumn<int>("keys");
        QTest::newRow("MHA prefill") << 4 << 4 << 7 << 7;
        QTest::newRow("GQA prefill") << 8 << 2 << 5 << 5;
        QTest::newRow("GQA decode") << 8 << 2 << 1 << 9;
        QTest::newRow("MQA chunk after cache") << 4 << 1 << 3 << 10;
    }
    void gqaAttentionMatchesReference()
    {
        QFETCH(int, heads);
        QFETCH(int, kvHeads);
        QFETCH(int, queries);
        QFETCH(int, keys);
        auto q = at::randn({1, heads, queries, 16}, at::kDouble);
        auto k = at::randn({1, kvHeads, keys, 16}, at::kDouble);
        auto v = at::randn({1, kvHeads, keys, 16}, at::kDouble);
        auto ours = causalAttention(q, k, v);
        auto ref = awq::test::refAttention(q[0], k[0], v[0]);
        QVERIFY(maxAbsDiff(ours[0], ref) < 1e-12);
    }

    void modelLogitsMatchReference_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<QString>("dtype");
        QTest::newRow("llama MHA fp32") << "llama" << 4 << false << "float32";
        QTest::newRow("llama GQA fp16 weights") << "llama" << 2 << false << "float16";
        QTest::newRow("llama tied bf16 weights") << "llama" << 4 << true << "bfloat16";
        QTest::newRow("mistral GQA") << "mistral" << 1 << false << "float32";
        QTest::newRow("qwen2 bias tied") << "qwen2" << 2 << true << "float32";
    }
    void modelLogitsMatchReference()
    {
        QFETCH(QString, type);
        QFETCH(int, kvHeads);
        QFETCH(bool, tied);
        QFETCH(QString, dtype);
        FixtureSpec spec;
        spec.modelType = type.toStdString();
        spec.numKvHeads = kvHeads;
        spec.tieWordEmbeddings = tied;
        spec.torchDtype = dtype.toStdString();
        Fixture f = makeFixture(spec, "forward");
        const std::vector<int64_t> ids = {1, 17, 42, 99, 5, 250, 3, 77, 120, 8, 64};
        const auto ref = awq::test::refLogits(f.config, f.weights, ids);

        // float64 engine: the same math, so agreement to rounding.
        auto model64 = LlamaModel::load(*f.store, f.config, {at::kDouble, at::kCPU});
        auto logits64 = model64->forward(at::tensor(ids).unsqueeze(0))[0];
        QVERIFY2(maxAbsDiff(logits64, ref) < 1e-5, std::to_string(maxAbsDiff(logits64, ref)).c_str());
        // float32 engine (the CPU default): within fp32 accumulation error.
        auto model32 = LlamaModel::load(*f.store, f.config);
        auto logits32 = model32->forward(at::tensor(ids).unsqueeze(0))[0];
        QCOMPARE(logits32.scalar_type(), at::kFloat);
        QVERIFY2(maxAbsDiff(logits32, ref) < 1e-4, std::to_string(maxAbsDiff(logits32, ref)).c_str());
    }

    void kvCacheMatchesFullRecompute()
    {
        FixtureSpec spec;
        spec.numKvHeads = 2;
        Fixture f = makeFixture(spec, "kvcache");
        auto model = LlamaModel::load(*f.store, f.config);
        const std::vector<int64_t> ids = {1, 30, 31, 32, 200, 201, 7, 9, 11, 13, 100, 150};
        auto full = model->forward(at::tensor(ids).unsqueeze(0))[0];

        KVCache cache(f.config, 1, 64);
        // Prefill 5 tokens, then a chunk of 3, then one at a time.
        auto a = model->forward(at::tensor(std::vector<int64_t>(ids.begin(), ids.begin() + 5)).unsqueeze(0), &cache);
        auto b = model->forward(at::tensor(std::vector<int64_t>(ids.begin() + 5, ids.begin() + 8)).unsqueeze(0), &cache);
        std::vector<at::Tensor> parts = {a[0], b[0]};
        for (size_t i = 8; i < ids.size(); ++i)
            parts.push_back(model->forward(at::tensor(std::vector<int64_t>{ids[i]}).unsqueeze(0), &cache)[0]);
        auto incremental = at::cat(parts, 0);
        QCOMPARE(cache.length(), int64_t(ids.size()));
        QVERIFY2(maxAbsDiff(incremental, full) < 1e-5, std::to_string(maxAbsDiff(incremental, full)).c_str());

        // lastOnly returns the last position's logits only.
        cache.reset();
        auto last = model->forward(at::tensor(ids).unsqueeze(0), &cache, true);
        QCOMPARE(last.size(1), int64_t(1));
        QVERIFY(maxAbsDiff(last[0][0], full[full.size(0) - 1]) < 1e-5);
    }

    void kvCacheOverflowIsAnError()
    {
        Fixture f = makeFixture({}, "overflow");
        auto model = LlamaModel::load(*f.store, f.config);
        KVCache cache(f.config, 1, 4);
        model->forward(at::tensor(std::vector<int64_t>{1, 2, 3}).unsqueeze(0), &cache);
        try {
            model->forward(at::tensor(std::vector<int64_t>{4, 5}).unsqueeze(0), &cache);
            QFAIL("expected an overflow error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::InvalidArgument);
            QVERIFY(std::string(e.what()).find("KV cache") != std::string::npos);
        }
    }

    void batchedForwardMatchesSingle()
    {
        Fixture f = makeFixture({}, "batch");
        auto model = LlamaModel::load(*f.store, f.config);
        auto ids = at::randint(3, 300, {3, 9}, at::kLong);
        auto batched = model->forward(ids);
        for (int64_t b = 0; b < 3; ++b)
            QVERIFY(maxAbsDiff(batched[b], model->forward(ids[b].unsqueeze(0))[0]) < 1e-5);
    }

    void missingTensorIsNamed()
    {
        FixtureSpec spec;
        const auto folder = awq::test::makeFixtureModel(awq::test::makeTempDir("missing"), spec);
        auto store = WeightStore::openFolder(folder);
        std::vector<std::pair<std::string, at::Tensor>> kept;
        for (const auto &name : store->names())
            if (name != "model.layers.1.mlp.up_proj.weight")
                kept.emplace_back(name, store->load(name, at::kFloat));
        store.reset();
        writeSafetensorsFile(folder / "model.safetensors", kept);
        store = WeightStore::openFolder(folder);
        try {
            LlamaModel::load(*store, ModelConfig::load(folder));
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY2(std::string(e.what()).find("model.layers.1.mlp.up_proj") != std::string::npos, e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestLlamaForward)
#include "tst_llama_forward.moc"
