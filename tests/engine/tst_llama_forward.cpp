// The Llama-family forward against a loop-by-loop float64 reference, op by op and
// end to end, and KV-cache decoding against recomputing the whole sequence.

#include <QtTest>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/model/model_folder.h"
#include "awq/nn/kv_cache.h"
#include "awq/nn/reference_model.h"
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
    matchTensorLayout(f.config, *f.store);
    // The oracle reads a text model's names: a multimodal checkpoint's text model is renamed
    // (its vision tower left out).
    const TensorLayout &names = f.config.names();
    const std::string textPrefix = names.layerPrefix.substr(0, names.layerPrefix.size() - std::string("layers.").size());
    for (const auto &name : f.store->names()) {
        std::string text = name;
        if (name == names.lmHeadName)
            text = "lm_head.weight";
        else if (name.rfind(textPrefix, 0) == 0)
            text = "model." + name.substr(textPrefix.size());
        else if (textPrefix != "model.")
            continue;
        f.weights[text] = f.store->load(name, f.store->view(name).scalar_type());
    }
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
        QTest::newRow("gemma3 local table (base 100, global scaling ignored)") << 3 << 40;
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
        ModelConfig refConfig = c;
        if (scaling == 3) { // the sliding layers' table: transformers' config copy with the local base, no scaling
            c.ropeScaling.type = RopeScaling::Type::Linear;
            c.ropeScaling.factor = 8.0;
            c.ropeLocalTheta = 100.0;
            refConfig.ropeTheta = 100.0;
        }
        RotaryEmbedding rope(c, /*local=*/scaling == 3);
        auto x = at::randn({1, 3, 6, 64}, at::kDouble);
        auto [cos, sin] = rope.cosSin(start, 6);
        auto ours = applyRotary(x, cos, sin);
        auto ref = awq::test::refRope(x[0], refConfig, start);
        QVERIFY2(maxAbsDiff(ours[0], ref) < 1e-5, std::to_string(maxAbsDiff(ours[0], ref)).c_str());
        // Every frequency band of llama3 scaling is used by some pair.
        auto inv = ropeInverseFrequencies(c, scaling == 3);
        for (int64_t i = 0; i < 32; ++i)
            QVERIFY(std::abs(inv[i].item<double>() - awq::test::refInverseFrequency(refConfig, i))
                    <= 1e-6 * awq::test::refInverseFrequency(refConfig, i));
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
        QTest::addColumn<int>("headDim"); // 0: hidden / heads
        QTest::newRow("llama MHA fp32") << "llama" << 4 << false << "float32" << 0;
        QTest::newRow("llama GQA fp16 weights") << "llama" << 2 << false << "float16" << 0;
        QTest::newRow("llama tied bf16 weights") << "llama" << 4 << true << "bfloat16" << 0;
        QTest::newRow("mistral GQA") << "mistral" << 1 << false << "float32" << 0;
        QTest::newRow("qwen2 bias tied") << "qwen2" << 2 << true << "float32" << 0;
        QTest::newRow("qwen3 GQA head_dim 24") << "qwen3" << 2 << false << "float32" << 24;
        QTest::newRow("qwen3 MHA tied bf16 weights") << "qwen3" << 4 << true << "bfloat16" << 16;
        QTest::newRow("gemma MQA head_dim 32") << "gemma" << 1 << true << "float32" << 32;
        QTest::newRow("gemma MHA fp16 weights") << "gemma" << 4 << true << "float16" << 16;
        QTest::newRow("gemma2 GQA head_dim 24") << "gemma2" << 2 << true << "float32" << 24;
        QTest::newRow("gemma2 MHA bf16 weights") << "gemma2" << 4 << true << "bfloat16" << 16;
        QTest::newRow("gemma3_text GQA head_dim 24") << "gemma3_text" << 2 << true << "float32" << 24;
        QTest::newRow("gemma3_text MHA bf16 weights") << "gemma3_text" << 4 << true << "bfloat16" << 16;
        QTest::newRow("gemma3 multimodal folder") << "gemma3" << 2 << true << "float32" << 16;
        QTest::newRow("gemma3 multimodal folder, saved layout") << "gemma3+saved" << 1 << true << "bfloat16" << 32;
        QTest::newRow("phi3 MHA") << "phi3" << 4 << false << "float32" << 0;
        QTest::newRow("phi3 GQA fp16 weights") << "phi3" << 2 << false << "float16" << 0;
        QTest::newRow("llama attention_bias") << "llama+bias" << 2 << false << "float32" << 0;
        QTest::newRow("qwen3 attention_bias") << "qwen3+bias" << 2 << false << "float32" << 24;
    }
    void modelLogitsMatchReference()
    {
        QFETCH(QString, type);
        QFETCH(int, kvHeads);
        QFETCH(bool, tied);
        QFETCH(QString, dtype);
        QFETCH(int, headDim);
        FixtureSpec spec;
        spec.modelType = type.section('+', 0, 0).toStdString();
        spec.attentionBias = type.endsWith("+bias"); // q/k/v and o_proj biases
        spec.savedLayout = type.endsWith("+saved");  // gemma3: language_model.model.*
        if (spec.modelType.rfind("gemma3", 0) == 0) { // local, local, global: a window of 5 over 11 tokens
            spec.numLayers = 3;
            spec.slidingWindowPattern = 3;
        }
        spec.numKvHeads = kvHeads;
        spec.tieWordEmbeddings = tied;
        spec.torchDtype = dtype.toStdString();
        spec.headDim = headDim;
        Fixture f = makeFixture(spec, "forward");
        QCOMPARE(f.config.headDim, int64_t(headDim > 0 ? headDim : spec.hiddenSize / spec.numHeads));
        const std::vector<int64_t> ids = {1, 17, 42, 99, 5, 250, 3, 77, 120, 8, 64};
        const auto ref = awq::test::refLogits(f.config, f.weights, ids);

        // float64 engine: the same math, so agreement to rounding.
        auto model64 = ReferenceModel::load(*f.store, f.config, {at::kDouble, at::kCPU});
        auto logits64 = model64->forward(at::tensor(ids).unsqueeze(0))[0];
        QVERIFY2(maxAbsDiff(logits64, ref) < 1e-5, std::to_string(maxAbsDiff(logits64, ref)).c_str());
        // float32 engine (the CPU default): within fp32 accumulation error.
        auto model32 = ReferenceModel::load(*f.store, f.config);
        auto logits32 = model32->forward(at::tensor(ids).unsqueeze(0))[0];
        QCOMPARE(logits32.scalar_type(), at::kFloat);
        QVERIFY2(maxAbsDiff(logits32, ref) < 1e-4, std::to_string(maxAbsDiff(logits32, ref)).c_str());
        qInfo("%s: max |dlogit| vs float64 reference: float64 engine %.3g, float32 engine %.3g (logit range %.3g)",
              QTest::currentDataTag(), maxAbsDiff(logits64, ref), maxAbsDiff(logits32, ref),
              ref.abs().max().item<double>());
    }

    // model_type selects the architecture's flags; head_dim defaults as transformers' configs do.
    void architectureFlagsFollowModelType()
    {
        const nlohmann::json base = {{"hidden_size", 64}, {"intermediate_size", 128}, {"num_hidden_layers", 1},
                                     {"num_attention_heads", 4}, {"vocab_size", 100}};
        auto parse = [&](const std::string &type, nlohmann::json extra = nlohmann::json::object()) {
            nlohmann::json j = base;
            j["model_type"] = type;
            j.update(extra);
            return ModelConfig::fromJson(j, "config.json");
        };
        const ModelConfig qwen3 = parse("qwen3");
        QVERIFY(qwen3.arch().has(NormRole::QHead) && qwen3.arch().has(NormRole::KHead) && !qwen3.arch().normPlusOne
                && !qwen3.arch().scaleEmbeddings && !qwen3.attentionBias);
        QCOMPARE(qwen3.headDim, int64_t(128)); // Qwen3Config's default, not hidden / heads
        QVERIFY(!qwen3.tieWordEmbeddings);
        QVERIFY(parse("qwen3", {{"attention_bias", true}}).attentionBias);
        const ModelConfig gemma = parse("gemma", {{"hidden_act", "gelu"}});
        QVERIFY(gemma.arch().normPlusOne && gemma.arch().scaleEmbeddings && !gemma.arch().has(NormRole::QHead)
                && gemma.tieWordEmbeddings);
        QCOMPARE(gemma.headDim, int64_t(256));
        QVERIFY(gemma.activation == Activation::GeluTanh); // the legacy "gelu" runs as tanh-GELU
        QVERIFY(!parse("gemma", {{"tie_word_embeddings", false}}).tieWordEmbeddings);
        const ModelConfig llama = parse("llama");
        QVERIFY(!llama.arch().has(NormRole::QHead) && !llama.arch().normPlusOne && !llama.arch().scaleEmbeddings);
        QCOMPARE(llama.headDim, int64_t(16));
        try {
            parse("gemma", {{"hidden_activation", "relu"}});
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::UnsupportedModel);
            QVERIFY2(std::string(e.what()).find("hidden_activation 'relu'") != std::string::npos, e.what());
        }
        // A gemma config written back keeps its activation.
        QCOMPARE(gemma.toJson()["hidden_act"].get<std::string>(), std::string("gelu_pytorch_tanh"));
        // gemma2: Gemma2Config's defaults, null turning soft-capping and the window off.
        const ModelConfig gemma2 = parse("gemma2");
        QVERIFY(gemma2.arch().has(NormRole::AttnOut) && gemma2.arch().has(NormRole::MlpOut) && gemma2.arch().normPlusOne
                && gemma2.arch().scaleEmbeddings && gemma2.tieWordEmbeddings);
        QCOMPARE(gemma2.arch().nameOf(NormRole::PreMlp), std::string("pre_feedforward_layernorm"));
        QCOMPARE(gemma2.attnLogitSoftcap, 50.0);
        QCOMPARE(gemma2.finalLogitSoftcap, 30.0);
        QCOMPARE(gemma2.attentionScale(), 1.0 / 16.0); // query_pre_attn_scalar 256
        QCOMPARE(gemma2.attentionWindow(0), int64_t(4096));
        QCOMPARE(gemma2.attentionWindow(1), int64_t(0));
        const ModelConfig off = parse("gemma2", {{"attn_logit_softcapping", nullptr}, {"final_logit_softcapping", nullptr},
                                                {"sliding_window", nullptr}, {"query_pre_attn_scalar", 144}});
        QCOMPARE(off.attnLogitSoftcap, 0.0);
        QCOMPARE(off.finalLogitSoftcap, 0.0);
        QCOMPARE(off.attentionWindow(0), int64_t(0));
        QCOMPARE(off.attentionScale(), 1.0 / 12.0);
        // phi3: fused projections; partial rotary embeddings are refused by name.
        QVERIFY(parse("phi3").arch().has(LinearRole::Qkv) && !llama.arch().has(LinearRole::Qkv));
        try {
            parse("phi3", {{"partial_rotary_factor", 0.75}});
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::UnsupportedModel);
            QVERIFY2(std::string(e.what()).find("partial_rotary_factor") != std::string::npos, e.what());
        }
        const ModelConfig back = ModelConfig::fromJson(gemma2.toJson(), "written");
        QCOMPARE(back.attnLogitSoftcap, 50.0);
        QCOMPARE(back.attentionScale(), 1.0 / 16.0);
    }

    void kvCacheMatchesFullRecompute_data()
    {
        QTest::addColumn<QString>("type");
        QTest::newRow("llama") << "llama";
        QTest::newRow("qwen3") << "qwen3";
        QTest::newRow("gemma") << "gemma";
        QTest::newRow("gemma2 (sliding window 5)") << "gemma2";
        QTest::newRow("gemma3_text (window 5, two RoPE bases)") << "gemma3_text";
        QTest::newRow("gemma3 multimodal folder") << "gemma3";
        QTest::newRow("phi3") << "phi3";
    }
    void kvCacheMatchesFullRecompute()
    {
        QFETCH(QString, type);
        FixtureSpec spec;
        spec.modelType = type.toStdString();
        spec.numKvHeads = 2;
        Fixture f = makeFixture(spec, "kvcache");
        auto model = ReferenceModel::load(*f.store, f.config);
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
        auto model = ReferenceModel::load(*f.store, f.config);
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
        auto model = ReferenceModel::load(*f.store, f.config);
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
            ReferenceModel::load(*store, ModelConfig::load(folder));
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY2(std::string(e.what()).find("model.layers.1.mlp.up_proj") != std::string::npos, e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestLlamaForward)
#include "tst_llama_forward.moc"
