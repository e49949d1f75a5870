// config.json parsing: the fields the engine uses, defaults, rope scaling, quantization
// config, and clear errors for unsupported or malformed configs.

#include <QtTest>

#include <algorithm>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/model/config.h"
#include "awq/model/model_info.h"
#include "fixture_model.h"

using awq::ErrorCode;
using awq::ModelConfig;
using nlohmann::json;

namespace {

json llamaJson()
{
    return json{{"model_type", "llama"},          {"architectures", {"LlamaForCausalLM"}},
                {"hidden_size", 4096},            {"intermediate_size", 11008},
                {"num_hidden_layers", 32},        {"num_attention_heads", 32},
                {"vocab_size", 32000},            {"max_position_embeddings", 4096},
                {"rms_norm_eps", 1e-5},           {"torch_dtype", "float16"},
                {"bos_token_id", 1},              {"eos_token_id", 2}};
}

ErrorCode errorOf(const json &j)
{
    try {
        ModelConfig::fromJson(j, "config.json");
    } catch (const awq::Error &e) {
        return e.code();
    }
    return ErrorCode::Internal;
}

} // namespace

class TestConfig : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void llamaDefaults()
    {
        const auto c = ModelConfig::fromJson(llamaJson(), "config.json");
        QCOMPARE(c.numKvHeads, int64_t(32));
        QCOMPARE(c.headDim, int64_t(128));
        QCOMPARE(c.ropeTheta, 10000.0);
        QVERIFY(!c.tieWordEmbeddings);
        QVERIFY(!c.attentionBias);
        QCOMPARE(c.eosTokenIds, std::vector<int64_t>{2});
        QCOMPARE(c.parameterCount(), int64_t(6738415616)); // Llama-2-7B
    }
    void qwen2HasBiasAndEosList()
    {
        json j = llamaJson();
        j["model_type"] = "qwen2";
        j["num_key_value_heads"] = 4;
        j["eos_token_id"] = json::array({151643, 151645});
        j["tie_word_embeddings"] = true;
        const auto c = ModelConfig::fromJson(j, "config.json");
        QVERIFY(c.attentionBias);
        QVERIFY(c.tieWordEmbeddings);
        QCOMPARE(c.eosTokenIds.size(), size_t(2));
        QCOMPARE(c.kvDim(), int64_t(512));
    }
    void ropeScaling()
    {
        json j = llamaJson();
        j["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
        auto c = ModelConfig::fromJson(j, "config.json");
        QVERIFY(c.ropeScaling.type == awq::RopeScaling::Type::Linear);
        QCOMPARE(c.ropeScaling.factor, 4.0);
        j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                             {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
        c = ModelConfig::fromJson(j, "config.json");
        QVERIFY(c.ropeScaling.type == awq::RopeScaling::Type::Llama3);
        QCOMPARE(c.ropeScaling.originalMaxPositionEmbeddings, int64_t(8192));
        j["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
        QVERIFY(errorOf(j) == ErrorCode::UnsupportedModel);
        j["rope_scaling"] = nullptr;
        QVERIFY(ModelConfig::fromJson(j, "config.json").ropeScaling.type == awq::RopeScaling::Type::None);
    }
    void quantizationConfig()
    {
        json j = llamaJson();
        j["quantization_config"] = {{"quant_method", "awq"}, {"bits", 4}, {"group_size", 64},
                                    {"zero_point", true}, {"version", "GEMV"},
                                    {"modules_to_not_convert", {"visual"}}};
        const auto c = ModelConfig::fromJson(j, "config.json");
        QVERIFY(c.quantization.present);
        QCOMPARE(c.quantization.groupSize, 64);
        QCOMPARE(c.quantization.version, std::string("gemv"));
        QCOMPARE(c.quantization.modulesToNotConvert, std::vector<std::string>{"visual"});
        // toJson round trip keeps every field.
        const auto again = ModelConfig::fromJson(c.toJson(), "config.json");
        QCOMPARE(again.quantization.groupSize, 64);
        QCOMPARE(again.hiddenSize, c.hiddenSize);
        QCOMPARE(again.eosTokenIds, c.eosTokenIds);
    }
    // What a new description must satisfy for the block, the loader and the quantizer to
    // work with it: the block's required roles, unique tensor names, scaling groups over
    // roles the architecture has.
    void architectureDescriptionsAreComplete()
    {
        using awq::LinearRole;
        using awq::NormRole;
        QCOMPARE(awq::supportedModelTypes().size(), awq::architectures().size());
        for (const awq::Architecture *a : awq::architectures()) {
            const QByteArray type = QByteArray::fromStdString(a->modelType);
            QVERIFY2(&awq::architectureFor(a->modelType, "test") == a, type);
            QVERIFY2(a->has(NormRole::Input) && a->has(NormRole::PreMlp), type);
            QVERIFY2(a->has(LinearRole::Qkv) != (a->has(LinearRole::Q) && a->has(LinearRole::K) && a->has(LinearRole::V)),
                     type);
            QVERIFY2(a->has(LinearRole::O), type);
            QVERIFY2(a->has(NormRole::QHead) == a->has(NormRole::KHead), type);
            // An MLP: the dense one, or (MoE) every expert's with a router.
            auto hasMlp = [](const std::vector<awq::LinearSlot> &slots) {
                auto has = [&](LinearRole r) {
                    return std::any_of(slots.begin(), slots.end(), [&](const awq::LinearSlot &s) { return s.role == r; });
                };
                return has(LinearRole::Down) && (has(LinearRole::GateUp) != (has(LinearRole::Gate) && has(LinearRole::Up)));
            };
            QVERIFY2(hasMlp(a->linears) || a->mixtureOfExperts(), type);
            if (a->mixtureOfExperts()) {
                QVERIFY2(hasMlp(a->expertLinears) && a->has(LinearRole::Router) && !a->expertPrefix.empty(), type);
                QVERIFY2(a->sharedExpertLinears.empty() == !a->has(LinearRole::SharedExpertGate), type);
            }
            std::set<std::string> names;
            for (const auto &n : a->norms)
                QVERIFY2(names.insert(n.name).second, type + " repeats " + QByteArray::fromStdString(n.name));
            for (const auto *slots : {&a->linears, &a->sharedExpertLinears})
                for (const auto &l : *slots)
                    QVERIFY2(names.insert(l.name).second, type + " repeats " + QByteArray::fromStdString(l.name));
            auto hasRef = [&](const awq::LinearRef &r) {
                const auto &slots = r.scope == awq::ExpertScope::Routed   ? a->expertLinears
                                    : r.scope == awq::ExpertScope::Shared ? a->sharedExpertLinears
                                                                           : a->linears;
                return std::any_of(slots.begin(), slots.end(), [&](const awq::LinearSlot &s) { return s.role == r.role; });
            };
            QVERIFY2(!a->scaling.empty(), type);
            std::set<std::pair<LinearRole, awq::ExpertScope>> scaled;
            for (const awq::ScalingGroup &g : a->scaling) {
                if (const auto *norm = std::get_if<NormRole>(&g.prevOp))
                    QVERIFY2(a->has(*norm), type);
                else
                    QVERIFY2(hasRef(std::get<awq::LinearRef>(g.prevOp)), type);
                QVERIFY2(!g.linears.empty(), type);
                for (const auto *list : {&g.linears, &g.alsoScaled})
                    for (const awq::LinearRef &r : *list) {
                        QVERIFY2(hasRef(r), type);
                        QVERIFY2(scaled.insert({r.role, r.scope}).second, type + ": a linear in two scaling groups");
                    }
                for (const awq::LinearRef &r : g.alsoScaled) // the full-precision readers only
                    QVERIFY2(awq::alwaysFullPrecision(r.role), type);
            }
            // Every linear is scaled by some group (AutoAWQ's layers, o_proj only without GQA).
            auto requireScaled = [&](const std::vector<awq::LinearSlot> &slots, awq::ExpertScope scope) {
                for (const auto &l : slots)
                    QVERIFY2(scaled.count({l.role, scope}), type + ": " + QByteArray::fromStdString(l.name) + " is in no group");
            };
            requireScaled(a->linears, awq::ExpertScope::None);
            requireScaled(a->expertLinears, awq::ExpertScope::Routed);
            requireScaled(a->sharedExpertLinears, awq::ExpertScope::Shared);
            // A tensor layout to load; a multimodal description names its text config and model type.
            QVERIFY2(!a->layouts.empty(), type);
            QVERIFY2(a->textConfigKey.empty() == a->textModelType.empty(), type);
        }
    }

    // gemma3: which layers slide and which RoPE base they take, as Gemma3TextConfig reads
    // them (layer_types, else sliding_window_pattern, default 6: layer i is global when
    // (i + 1) % 6 == 0), its defaults, and a multimodal folder's sparse text_config.
    void gemma3ConfigsAsTransformersReadThem()
    {
        using awq::AttentionKind;
        const AttentionKind S = AttentionKind::Sliding, F = AttentionKind::Full;
        const json text = {{"model_type", "gemma3_text"}, {"hidden_size", 64},        {"intermediate_size", 128},
                           {"num_hidden_layers", 12},      {"num_attention_heads", 4}, {"vocab_size", 100}};
        const ModelConfig c = ModelConfig::fromJson(text, "config.json");
        QCOMPARE(c.layerKinds, (std::vector<AttentionKind>{S, S, S, S, S, F, S, S, S, S, S, F}));
        QCOMPARE(c.attentionWindow(0), int64_t(4096));
        QCOMPARE(c.attentionWindow(5), int64_t(0));
        QVERIFY(c.localRope(0) && !c.localRope(5));
        QCOMPARE(c.ropeLocalTheta, 10000.0);
        QCOMPARE(c.ropeTheta, 1e6);
        QCOMPARE(c.headDim, int64_t(256));
        QCOMPARE(c.numKvHeads, int64_t(4)); // Gemma3TextConfig's default, not num_attention_heads
        QCOMPARE(c.attnLogitSoftcap, 0.0);
        QCOMPARE(c.finalLogitSoftcap, 0.0);
        QCOMPARE(c.attentionScale(), 1.0 / 16.0); // query_pre_attn_scalar 256
        QVERIFY(c.tieWordEmbeddings && c.arch().normPlusOne && c.arch().has(awq::NormRole::QHead)
                && c.arch().has(awq::NormRole::AttnOut) && c.activation == awq::Activation::GeluTanh);
        QVERIFY(c.notes.empty());

        json pattern = text;
        pattern["sliding_window_pattern"] = 3;
        pattern["num_hidden_layers"] = 4;
        pattern["sliding_window"] = 512;
        const ModelConfig p = ModelConfig::fromJson(pattern, "config.json");
        QCOMPARE(p.layerKinds, (std::vector<AttentionKind>{S, S, F, S}));
        QCOMPARE(p.attentionWindow(1), int64_t(512));
        json listed = pattern; // layer_types wins over the pattern
        listed["layer_types"] = {"full_attention", "sliding_attention", "sliding_attention", "full_attention"};
        QCOMPARE(ModelConfig::fromJson(listed, "config.json").layerKinds, (std::vector<AttentionKind>{F, S, S, F}));
        listed["layer_types"] = {"full_attention", "chunked_attention", "sliding_attention", "full_attention"};
        QVERIFY(errorOf(listed) == ErrorCode::UnsupportedModel);
        listed["layer_types"] = {"full_attention"};
        QVERIFY(errorOf(listed) == ErrorCode::Format);
        // Written back (layer_types, the pattern they follow, the local base) and read again.
        const json written = p.toJson();
        QCOMPARE(written.at("sliding_window_pattern").get<int>(), 3);
        const ModelConfig again = ModelConfig::fromJson(written, "written");
        QCOMPARE(again.layerKinds, p.layerKinds);
        QCOMPARE(again.ropeLocalTheta, p.ropeLocalTheta);
        QCOMPARE(again.slidingWindow, int64_t(512));

        // google/gemma-3-4b-it's config.json: most text keys left to Gemma3TextConfig's defaults,
        // dtype and eos outside text_config, the vision tower named in a note.
        const json multimodal = json::parse(R"({
            "architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
            "boi_token_index": 255999, "eoi_token_index": 256000, "eos_token_id": [1, 106],
            "image_token_index": 262144, "mm_tokens_per_image": 256, "torch_dtype": "bfloat16",
            "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                            "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                            "sliding_window": 1024},
            "vision_config": {"hidden_size": 1152, "image_size": 896, "model_type": "siglip_vision_model",
                              "num_attention_heads": 16, "num_hidden_layers": 27, "patch_size": 14}})");
        const ModelConfig m = ModelConfig::fromJson(multimodal, "/m/config.json");
        QCOMPARE(m.modelType, std::string("gemma3"));
        QCOMPARE(m.hiddenSize, int64_t(2560));
        QCOMPARE(m.numLayers, int64_t(34));
        QCOMPARE(m.numHeads, int64_t(8));
        QCOMPARE(m.numKvHeads, int64_t(4));
        QCOMPARE(m.vocabSize, int64_t(262208));
        QCOMPARE(m.torchDtype, std::string("bfloat16"));
        QCOMPARE(m.eosTokenIds, (std::vector<int64_t>{1, 106}));
        QVERIFY(m.ropeScaling.type == awq::RopeScaling::Type::Linear && m.ropeScaling.factor == 8.0);
        QCOMPARE(m.slidingWindow, int64_t(1024));
        QVERIFY(m.attentionKind(5) == F);
        QCOMPARE(m.names().embedName, std::string("model.language_model.embed_tokens.weight"));
        QCOMPARE(m.arch().layouts.at(1).layerName(3), std::string("language_model.model.layers.3."));
        QCOMPARE(m.notes.size(), size_t(1));
        QVERIFY2(m.notes.front().find("vision_tower") != std::string::npos
                     && m.notes.front().find("/m/config.json") != std::string::npos,
                 m.notes.front().c_str());
        const json nested = m.toJson(); // the nested form reads back the same
        QCOMPARE(nested.at("text_config").at("model_type").get<std::string>(), std::string("gemma3_text"));
        const ModelConfig m2 = ModelConfig::fromJson(nested, "written");
        QCOMPARE(m2.hiddenSize, m.hiddenSize);
        QCOMPARE(m2.layerKinds, m.layerKinds);
        QVERIFY(m2.ropeScaling.type == awq::RopeScaling::Type::Linear);
        QCOMPARE(m2.torchDtype, std::string("bfloat16"));
        json broken = multimodal;
        broken["text_config"] = "none";
        QVERIFY(errorOf(broken) == ErrorCode::Format);
    }

    void unsupportedModelTypeListsSupported()
    {
        json j = llamaJson();
        j["model_type"] = "gpt2";
        try {
            ModelConfig::fromJson(j, "/m/config.json");
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::UnsupportedModel);
            const std::string msg = e.what();
            QVERIFY2(msg.find("gpt2") != std::string::npos && msg.find("llama, mistral, qwen2") != std::string::npos
                         && msg.find("/m/config.json") != std::string::npos,
                     msg.c_str());
        }
    }
    void malformedFields_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::newRow("hidden_size string") << "hidden_size" << "\"big\"";
        QTest::newRow("hidden_size zero") << "hidden_size" << "0";
        QTest::newRow("layers negative") << "num_hidden_layers" << "-3";
        QTest::newRow("heads not dividing kv") << "num_key_value_heads" << "5";
        QTest::newRow("vocab absurd") << "vocab_size" << "99999999999";
        QTest::newRow("eps string") << "rms_norm_eps" << "\"tiny\"";
        QTest::newRow("tie not bool") << "tie_word_embeddings" << "3";
        QTest::newRow("act gelu") << "hidden_act" << "\"gelu\"";
        QTest::newRow("eos negative") << "eos_token_id" << "-4";
    }
    void malformedFields()
    {
        QFETCH(QString, key);
        QFETCH(QString, value);
        json j = llamaJson();
        j[key.toStdString()] = json::parse(value.toStdString());
        try {
            ModelConfig::fromJson(j, "config.json");
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY2(std::string(e.what()).find(key.toStdString()) != std::string::npos
                         || std::string(e.what()).find("hidden_act") != std::string::npos,
                     e.what());
        }
    }
    void missingRequiredField()
    {
        json j = llamaJson();
        j.erase("vocab_size");
        QVERIFY(errorOf(j) == ErrorCode::Format);
    }
    void loadErrorsNameTheFile()
    {
        const auto dir = awq::test::makeTempDir("config");
        try {
            ModelConfig::load(dir);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::NotFound);
            QVERIFY(std::string(e.what()).find("config.json") != std::string::npos);
        }
        std::ofstream(dir / "config.json") << "{ not json";
        try {
            ModelConfig::load(dir);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::Format);
            QVERIFY(std::string(e.what()).find((dir / "config.json").string()) != std::string::npos);
        }
    }
    void inspectFixtureModel()
    {
        awq::test::FixtureSpec spec;
        spec.numKvHeads = 2;
        spec.torchDtype = "float16";
        const auto folder = awq::test::makeFixtureModel(awq::test::makeTempDir("inspect"), spec);
        const auto info = awq::inspectModel(folder);
        QVERIFY2(info.loadable(), info.problems.empty() ? "" : info.problems.front().c_str());
        QCOMPARE(info.config.numKvHeads, int64_t(2));
        QCOMPARE(info.shardCount, 1);
        QCOMPARE(info.tensorsPerDtype.at("F16"), info.tensorCount);
        QVERIFY(info.precisionSummary().find("F16") != std::string::npos);
        // A tensor with the wrong shape is reported by name.
        auto cfg = json::parse(std::ifstream(folder / "config.json"));
        cfg["intermediate_size"] = 256;
        std::ofstream(folder / "config.json") << cfg.dump();
        const auto broken = awq::inspectModel(folder);
        QVERIFY(!broken.loadable());
        QVERIFY(broken.problems.front().find("mlp.gate_proj.weight") != std::string::npos);
    }
};

QTEST_APPLESS_MAIN(TestConfig)
#include "tst_config.moc"
