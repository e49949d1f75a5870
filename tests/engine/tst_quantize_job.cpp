// The whole quantization run on tiny fixture models: what it writes, that the packed
// checkpoint reloads to exactly the weights it quantized, that scale folding preserves
// the model's function, and that failures and cancels leave nothing behind.

#include <algorithm>
#include <fstream>
#include <vector>

#include <ATen/ATen.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/runtime/decoder_model.h"
#include "awq/io/safetensors.h"
#include "awq/model/memory_estimate.h"
#include "awq/model/model_info.h"
#include "awq/nn/fused_cpu_decoder.h"
#include "awq/runtime/generator.h"
#include "awq/nn/linear.h"
#include "awq/quant/pseudo_quant.h"
#include "awq/quant/quantize_job.h"
#include "awq/runtime/loaded_model.h"
#include "fixture_model.h"

namespace fs = std::filesystem;
using namespace awq;

namespace {

const char *kLinears[] = {"q", "k", "v", "o", "gate", "up", "down"};

const Linear &linearOf(const DecoderLayer &l, const std::string &name)
{
    if (name == "q") return *l.linear(LinearRole::Q);
    if (name == "k") return *l.linear(LinearRole::K);
    if (name == "v") return *l.linear(LinearRole::V);
    if (name == "o") return *l.linear(LinearRole::O);
    if (name == "gate") return *l.linear(LinearRole::Gate);
    if (name == "up") return *l.linear(LinearRole::Up);
    if (name == "qkv") return *l.linear(LinearRole::Qkv);       // phi3
    if (name == "gateup") return *l.linear(LinearRole::GateUp); // phi3
    return *l.linear(LinearRole::Down);
}

at::Tensor weightOf(const DecoderLayer &l, const std::string &name)
{
    const auto *dense = dynamic_cast<const DenseLinear *>(&linearOf(l, name));
    if (!dense)
        throw std::runtime_error("not a dense linear");
    return dense->weight();
}

nlohmann::json readJson(const fs::path &p)
{
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

bool hasPartialSibling(const fs::path &folder)
{
    for (const auto &e : fs::directory_iterator(folder.parent_path()))
        if (e.path().filename().string().find(".partial-") != std::string::npos)
            return true;
    return false;
}

} // namespace

class TestQuantizeJob : public QObject
{
    Q_OBJECT

    fs::path m_root, m_model, m_gqaModel, m_calib;

    QuantOptions options(const fs::path &model, const fs::path &out) const
    {
        QuantOptions o;
        o.modelFolder = model;
        o.outputFolder = out;
        o.quantizer.groupSize = 32;
        o.calibration.source = {CalibrationSource::Kind::TextFile, m_calib, "text"};
        o.calibration.nSamples = 64;
        o.calibration.seqLen = 128;
        o.threads = 1;
        return o;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_root = test::makeTempDir("quantize-job");
        test::FixtureSpec spec;
        spec.torchDtype = "float16";
        m_model = test::makeFixtureModel(m_root / "model", spec);
        spec.numKvHeads = 2;
        spec.seed = 77;
        m_gqaModel = test::makeFixtureModel(m_root / "model-gqa", spec);
        m_calib = m_root / "calib.txt";
        std::ofstream(m_calib) << test::fixtureCorpus();
    }

    // The packed checkpoint, loaded back, has exactly the weights that fake quantization
    // writes in full precision: packing, the on-disk layout and the loader agree.
    void packedReloadsToQuantizedWeights_data()
    {
        QTest::addColumn<QString>("version");
        QTest::addColumn<bool>("gqa");
        QTest::newRow("gemm") << "gemm" << false;
        QTest::newRow("gemv") << "gemv" << false;
        QTest::newRow("gemm-gqa") << "gemm" << true;
    }
    void packedReloadsToQuantizedWeights()
    {
        QFETCH(QString, version);
        QFETCH(bool, gqa);
        const fs::path model = gqa ? m_gqaModel : m_model;
        const std::string tag = version.toStdString() + (gqa ? "-gqa" : "");
        QuantOptions packed = options(model, m_root / ("packed-" + tag));
        packed.version = version.toStdString();
        QuantOptions fake = options(model, m_root / ("fake-" + tag));
        fake.format = OutputFormat::FakeQuant;
        const QuantizeReport r = quantizeModel(packed);
        quantizeModel(fake);
        QVERIFY(r.calibrationBlocks > 0);
        QCOMPARE(r.groupLosses.size(), size_t(gqa ? 3 * 2 : 4 * 2)); // v->o only without GQA

        const nlohmann::json cfg = readJson(packed.outputFolder / "config.json");
        QCOMPARE(cfg["quantization_config"]["quant_method"].get<std::string>(), std::string("awq"));
        QCOMPARE(cfg["quantization_config"]["version"].get<std::string>(), version.toStdString());
        QCOMPARE(cfg["quantization_config"]["bits"].get<int>(), 4);
        QCOMPARE(cfg["quantization_config"]["group_size"].get<int>(), 32);
        QVERIFY(fs::exists(packed.outputFolder / "tokenizer.model"));
        QVERIFY(!hasPartialSibling(packed.outputFolder));

        // float64 loads take the reference dequantization (AutoAWQ's fp16 rounding), not the
        // int4 kernels, so the packed weights can be compared bit for bit.
        const TensorTarget reference{at::kDouble};
        LoadedModel a = loadModel(packed.outputFolder, reference);
        LoadedModel b = loadModel(fake.outputFolder, reference);
        for (int64_t i = 0; i < a.config.numLayers; ++i) {
            for (const char *name : kLinears) {
                const at::Tensor wa = weightOf(a.model->layer(i), name), wb = weightOf(b.model->layer(i), name);
                if (!at::equal(wa, wb))
                    QFAIL(qPrintable(QString("layer %1 %2: packed weights differ from fake-quantized ones, max %3")
                                         .arg(i).arg(name).arg((wa - wb).abs().max().item<double>())));
            }
            QVERIFY(at::equal(a.model->layer(i).norm(NormRole::Input), b.model->layer(i).norm(NormRole::Input)));
        }
        auto ids = at::arange(1, 30, at::kLong).unsqueeze(0);
        QVERIFY(at::equal(a.model->forward(ids), b.model->forward(ids)));
    }

    // qwen3 (per-head q/k norms, head_dim != hidden / heads) and gemma ((1 + w) norms folded
    // as (1 + w) / s - 1, scaled embeddings, tanh-GELU, tied): AWQ -> packed checkpoint that
    // inspects clean, reloads to exactly the fake-quantized weights, keeps the extra norms,
    // and generates through both decoders; export-compatible scaling keeps the function.
    void otherArchitecturesRoundTrip_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("kvHeads");
        QTest::newRow("qwen3 GQA head_dim 24") << "qwen3" << 24 << 2;
        QTest::newRow("qwen3 MHA (v->o group)") << "qwen3" << 16 << 4;
        QTest::newRow("gemma MHA (v->o group)") << "gemma" << 16 << 4;
        QTest::newRow("gemma MQA head_dim 32") << "gemma" << 32 << 1;
        QTest::newRow("qwen3 attention_bias (q/k/v/o biases)") << "qwen3+bias" << 16 << 4;
        QTest::newRow("gemma2 MHA (v->o group)") << "gemma2" << 16 << 4;
        QTest::newRow("gemma2 GQA head_dim 24") << "gemma2" << 24 << 2;
        QTest::newRow("gemma3_text MHA (v->o group)") << "gemma3_text" << 16 << 4;
        QTest::newRow("gemma3_text GQA head_dim 24") << "gemma3_text" << 24 << 2;
        QTest::newRow("gemma3 multimodal, saved layout (vision tower copied)") << "gemma3+saved" << 16 << 2;
        QTest::newRow("phi3 MHA (qkv->o group)") << "phi3" << 16 << 4;
        QTest::newRow("phi3 GQA") << "phi3" << 16 << 2;
    }
    void otherArchitecturesRoundTrip()
    {
        QFETCH(QString, type);
        QFETCH(int, headDim);
        QFETCH(int, kvHeads);
        test::FixtureSpec spec;
        spec.modelType = type.section('+', 0, 0).toStdString();
        spec.attentionBias = type.endsWith("+bias");
        spec.savedLayout = type.endsWith("+saved");
        const bool gemma3 = spec.modelType.rfind("gemma3", 0) == 0;
        const bool postNorms = spec.modelType == "gemma2" || gemma3; // the output norms, kept as stored
        if (gemma3) { // local, local, global: the calibration and test sequences outrun the window of 5
            spec.numLayers = 3;
            spec.slidingWindowPattern = 3;
        }
        spec.headDim = headDim;
        spec.numKvHeads = kvHeads;
        spec.torchDtype = "float16";
        spec.tieWordEmbeddings = spec.modelType.rfind("gemma", 0) == 0;
        const std::string tag = spec.modelType + (spec.attentionBias ? "-bias-" : spec.savedLayout ? "-saved-" : "-")
                                + std::to_string(headDim) + "-" + std::to_string(kvHeads);
        const fs::path model = test::makeFixtureModel(m_root / ("src-" + tag), spec);
        const bool vToO = kvHeads * headDim == spec.hiddenSize && spec.numHeads * headDim == spec.hiddenSize;

        QuantOptions packed = options(model, m_root / ("packed-" + tag));
        QuantOptions fake = options(model, m_root / ("fake-" + tag));
        fake.format = OutputFormat::FakeQuant;
        const QuantizeReport r = quantizeModel(packed);
        quantizeModel(fake);
        QCOMPARE(r.groupLosses.size(), size_t((vToO ? 4 : 3) * spec.numLayers));
        const ModelInfo info = inspectModel(packed.outputFolder);
        QVERIFY2(info.loadable(), info.problems.empty() ? "" : info.problems.front().c_str());
        QCOMPARE(info.config.modelType, spec.modelType);

        auto source = WeightStore::openFolder(model), out = WeightStore::openFolder(packed.outputFolder);
        QVERIFY(!out->contains("lm_head.weight") || !spec.tieWordEmbeddings);
        for (int64_t i = 0; i < spec.numLayers; ++i) {
            // The checkpoint's own names (a multimodal folder's prefix kept).
            const std::string p = info.config.names().layerName(i);
            QVERIFY2(out->contains(p + "self_attn.o_proj.qweight"), p.c_str());
            // Kept as stored, never scaled: qwen3's and gemma3's q/k norms, gemma2's and gemma3's output norms.
            for (const char *norm : {"self_attn.q_norm.weight", "self_attn.k_norm.weight"}) {
                const std::string name = p + norm;
                QCOMPARE(out->contains(name), spec.modelType == "qwen3" || gemma3);
                if (out->contains(name))
                    QVERIFY(at::equal(out->view(name), source->view(name)));
            }
            if (postNorms)
                for (const char *norm : {"post_attention_layernorm.weight", "post_feedforward_layernorm.weight"})
                    QVERIFY2(at::equal(out->view(p + norm), source->view(p + norm)), norm);
        }
        if (spec.modelType == "gemma3") { // the vision tower: copied untouched, left alone by transformers
            QVERIFY(!info.config.notes.empty());
            for (const char *name : {"vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight",
                                     "multi_modal_projector.mm_input_projection_weight"})
                QVERIFY2(at::equal(out->view(name), source->view(name)), name);
            const nlohmann::json q = readJson(packed.outputFolder / "config.json")["quantization_config"];
            QCOMPARE(q["modules_to_not_convert"], nlohmann::json({"vision_tower", "multi_modal_projector"}));
            QVERIFY(readJson(packed.outputFolder / "config.json").contains("text_config"));
        }
        // The MLP group folds into the norm in front of the MLP (gemma2, gemma3: pre_feedforward_layernorm).
        const nlohmann::json groups = readJson(packed.outputFolder / kProvenanceFile)["layers"][0]["groups"];
        QCOMPARE(groups[vToO ? 2 : 1]["prev_op"].get<std::string>(),
                 std::string(postNorms ? "pre_feedforward_layernorm" : "post_attention_layernorm"));

        const TensorTarget reference{at::kDouble};
        LoadedModel a = loadModel(packed.outputFolder, reference);
        LoadedModel b = loadModel(fake.outputFolder, reference);
        const std::vector<std::string> linears = spec.modelType == "phi3"
                                                     ? std::vector<std::string>{"qkv", "o", "gateup", "down"}
                                                     : std::vector<std::string>(std::begin(kLinears), std::end(kLinears));
        for (int64_t i = 0; i < a.config.numLayers; ++i)
            for (const std::string &name : linears)
                QVERIFY2(at::equal(weightOf(a.model->layer(i), name), weightOf(b.model->layer(i), name)), name.c_str());
        auto ids = at::arange(1, 30, at::kLong).unsqueeze(0);
        QVERIFY(at::equal(a.model->forward(ids), b.model->forward(ids)));

        // Generation on the int4 kernels: the reference path and the fused decoder agree.
        LoadedModel q = loadModel(packed.outputFolder), toFuse = loadModel(packed.outputFolder);
        GenerationRequest request;
        request.promptIds = q.tokenizer->encode("the old sailor walked", true);
        request.sampling.maxNewTokens = 12;
        request.stopAtEos = false;
        ReferenceDecoder unfusedDecoder(*q.model);
        const GenerationResult unfused = Generator(unfusedDecoder, *q.tokenizer).generate(request);
        FusedCpuDecoder fused(std::move(toFuse.model));
        const GenerationResult fusedResult = Generator(fused, *toFuse.tokenizer).generate(request);
        QCOMPARE(unfused.tokens.size(), size_t(12));
        QCOMPARE(fusedResult.tokens, unfused.tokens);

        // Scale folding alone (export-compatible, no clipping) preserves the function.
        QuantOptions exported = options(model, m_root / ("export-" + tag));
        exported.format = OutputFormat::ExportCompatible;
        exported.applyClip = false;
        quantizeModel(exported);
        LoadedModel original = loadModel(model), scaled = loadModel(exported.outputFolder);
        auto la = original.model->forward(ids), lb = scaled.model->forward(ids);
        const double diff = (la - lb).abs().max().item<double>(), range = la.abs().max().item<double>();
        qInfo("%s: scale folding moved logits by %.3g (range %.3g)", tag.c_str(), diff, range);
        QVERIFY2(diff < 2e-2 * range, qPrintable(QString("logits moved by %1 (range %2)").arg(diff).arg(range)));
        QVERIFY(!at::equal(scaled.model->layer(0).norm(NormRole::Input), original.model->layer(0).norm(NormRole::Input)));
    }

    // With export-compatible output and no clipping, AWQ only moves scales between ops:
    // the model computes the same function (up to fp16 storage of the scaled weights).
    void scaleFoldingPreservesTheFunction_data()
    {
        QTest::addColumn<bool>("gqa");
        QTest::newRow("mha (v->o group)") << false;
        QTest::newRow("gqa") << true;
    }
    void scaleFoldingPreservesTheFunction()
    {
        QFETCH(bool, gqa);
        const fs::path model = gqa ? m_gqaModel : m_model;
        QuantOptions o = options(model, m_root / (gqa ? "export-gqa" : "export"));
        o.format = OutputFormat::ExportCompatible;
        o.applyClip = false;
        quantizeModel(o);
        QVERIFY(!readJson(o.outputFolder / "config.json").contains("quantization_config"));
        LoadedModel original = loadModel(model);
        LoadedModel scaled = loadModel(o.outputFolder);
        auto ids = at::arange(3, 60, at::kLong).unsqueeze(0);
        auto la = original.model->forward(ids), lb = scaled.model->forward(ids);
        const double diff = (la - lb).abs().max().item<double>();
        const double range = la.abs().max().item<double>();
        QVERIFY2(diff < 2e-2 * range, qPrintable(QString("logits moved by %1 (range %2)").arg(diff).arg(range)));
        // ...while the weights themselves did change.
        QVERIFY(!at::equal(weightOf(original.model->layer(0), "q"), weightOf(scaled.model->layer(0), "q")));
    }

    // modules_to_not_convert on part of a scaling group (AutoAWQ's behaviour): the excluded
    // linear is still scaled with its group, since the shared norm or previous linear is
    // divided by s for all of them, and only left unquantized. With export-compatible output
    // and no clipping nothing is quantized, so the model must compute what it did, whichever
    // single linear is excluded. Float32 fixtures with every group present (no GQA); no
    // identity candidate, so that every searched group really gets scales other than 1.
    void excludedLinearKeepsTheFunction_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("excluded");
        for (const char *type : {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text"})
            for (const char *linear : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                       "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"})
                QTest::newRow((std::string(type) + " without " + linear).c_str()) << type << linear;
        for (const char *linear : {"self_attn.qkv_proj", "self_attn.o_proj", "mlp.gate_up_proj", "mlp.down_proj"})
            QTest::newRow((std::string("phi3 without ") + linear).c_str()) << "phi3" << linear;
    }
    void excludedLinearKeepsTheFunction()
    {
        QFETCH(QString, type);
        QFETCH(QString, excluded);
        test::FixtureSpec spec;
        spec.modelType = type.toStdString();
        spec.tieWordEmbeddings = spec.modelType.rfind("gemma", 0) == 0;
        if (spec.modelType == "qwen3" || spec.modelType.rfind("gemma", 0) == 0)
            spec.headDim = 16;
        const fs::path model = m_root / ("fp32-" + spec.modelType);
        if (!fs::exists(model / "config.json"))
            test::makeFixtureModel(model, spec);

        const std::string tag = spec.modelType + "-without-" + excluded.toStdString();
        QuantOptions o = options(model, m_root / ("exclude-" + tag));
        o.format = OutputFormat::ExportCompatible;
        o.applyClip = false;
        o.identityCandidate = false;
        o.calibration.nSamples = 16;
        o.modulesToNotConvert = {excluded.toStdString()};
        const QuantizeReport r = quantizeModel(o);
        QVERIFY(!r.groupLosses.empty());

        LoadedModel original = loadModel(model), scaled = loadModel(o.outputFolder);
        const auto ids = at::arange(3, 60, at::kLong).unsqueeze(0);
        const at::Tensor la = original.model->forward(ids), lb = scaled.model->forward(ids);
        const double diff = (la - lb).abs().max().item<double>(), range = la.abs().max().item<double>();
        QVERIFY2(diff < 1e-4 * range, qPrintable(QString("logits moved by %1 (range %2)").arg(diff).arg(range)));
        // ...while a linear that shares its group was searched and scaled with it.
        const std::string shortName = excluded.section('.', 1).toStdString();
        const bool shared = spec.modelType != "phi3" && shortName != "o_proj" && shortName != "down_proj";
        const bool searched = std::any_of(r.groupLosses.begin(), r.groupLosses.end(), [&](const GroupLoss &g) {
            return g.group.find(shortName) != std::string::npos;
        });
        QCOMPARE(searched, shared);
    }

    // config.json keeps the source's torch_dtype: a bf16 model stays bf16 (transformers'
    // torch_dtype="auto" must not run it in fp16), an fp16 one fp16.
    void packedConfigKeepsTheSourceDtype_data()
    {
        QTest::addColumn<QString>("dtype");
        QTest::newRow("bfloat16") << "bfloat16";
        QTest::newRow("float16") << "float16";
    }
    void packedConfigKeepsTheSourceDtype()
    {
        QFETCH(QString, dtype);
        test::FixtureSpec spec;
        spec.torchDtype = dtype.toStdString();
        const fs::path model = test::makeFixtureModel(m_root / ("dtype-src-" + spec.torchDtype), spec);
        QuantOptions o = options(model, m_root / ("dtype-" + spec.torchDtype));
        o.method = QuantMethod::Rtn;
        quantizeModel(o);
        const nlohmann::json cfg = readJson(o.outputFolder / "config.json");
        QVERIFY(cfg.contains("quantization_config"));
        QCOMPARE(cfg["torch_dtype"].get<std::string>(), spec.torchDtype);
        QVERIFY(inspectModel(o.outputFolder).loadable());
    }

    // AWQ's premise at model level: give the model salient input channels (large activations
    // meeting small weights, as in trained LLMs) without changing its function; RTN then
    // loses much more than AWQ, which finds and protects those channels.
    void awqProtectsPlantedSalientChannels()
    {
        const fs::path planted = m_root / "planted";
        fs::create_directories(planted);
        for (const char *f : {"config.json", "tokenizer.model", "tokenizer_config.json"})
            fs::copy_file(m_model / f, planted / f, fs::copy_options::overwrite_existing);
        auto store = WeightStore::openFolder(m_model);
        std::map<std::string, at::Tensor> t;
        for (const auto &name : store->names())
            t[name] = store->load(name, at::kFloat);
        const double alpha = 30.0;
        const int64_t channels[] = {3, 17, 40};
        for (int i = 0; i < 2; ++i) {
            const std::string p = "model.layers." + std::to_string(i) + ".";
            for (const auto &[norm, linears] :
                 std::vector<std::pair<std::string, std::vector<std::string>>>{
                     {"input_layernorm", {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}},
                     {"post_attention_layernorm", {"mlp.gate_proj", "mlp.up_proj"}}}) {
                for (int64_t c : channels) {
                    t[p + norm + ".weight"].select(0, c).mul_(alpha);
                    for (const auto &l : linears)
                        t[p + l + ".weight"].select(1, c).mul_(1.0 / alpha);
                }
            }
        }
        std::vector<std::pair<std::string, at::Tensor>> out;
        for (const auto &[name, tensor] : t)
            out.emplace_back(name, tensor.to(at::kHalf));
        writeSafetensorsFile(planted / "model.safetensors", out);

        auto ids = at::arange(2, 120, at::kLong).unsqueeze(0);
        auto errorOf = [&](const fs::path &model, QuantMethod method, const std::string &tag) {
            QuantOptions o = options(model, m_root / ("planted-" + tag));
            o.method = method;
            o.format = OutputFormat::FakeQuant;
            quantizeModel(o);
            LoadedModel fp = loadModel(model), q = loadModel(o.outputFolder);
            return (fp.model->forward(ids) - q.model->forward(ids)).pow(2).mean().item<double>();
        };
        const double rtnPlain = errorOf(m_model, QuantMethod::Rtn, "plain-rtn");
        const double awqPlain = errorOf(m_model, QuantMethod::Awq, "plain-awq");
        const double rtn = errorOf(planted, QuantMethod::Rtn, "rtn");
        const double awq = errorOf(planted, QuantMethod::Awq, "awq");
        qInfo("logit MSE vs full precision: plain model RTN %.3g AWQ %.3g; planted RTN %.3g AWQ %.3g", rtnPlain,
              awqPlain, rtn, awq);
        QVERIFY2(rtn > 2 * rtnPlain, "planting salient channels should hurt RTN");
        QVERIFY2(awq < 0.5 * rtn, "AWQ should recover most of what RTN loses on salient channels");
    }

    // RTN is the quantizer alone: fake-quant RTN weights are Q(fp16 weights), nothing else.
    void rtnIsPlainRoundToNearest()
    {
        QuantOptions o = options(m_model, m_root / "rtn");
        o.method = QuantMethod::Rtn;
        o.format = OutputFormat::FakeQuant;
        const QuantizeReport r = quantizeModel(o);
        QCOMPARE(r.calibrationBlocks, int64_t(0)); // RTN needs no calibration
        LoadedModel original = loadModel(m_model);
        LoadedModel rtn = loadModel(o.outputFolder);
        for (const char *name : kLinears) {
            const at::Tensor w = weightOf(original.model->layer(1), name);
            const at::Tensor expected = pseudoQuantize(w, o.quantizer, QuantPrecision::Fp16).dequantized;
            QVERIFY2(at::equal(weightOf(rtn.model->layer(1), name), expected), name);
        }
    }

    void provenanceIsRecorded()
    {
        QuantOptions o = options(m_model, m_root / "provenance");
        const QuantizeReport r = quantizeModel(o);
        const nlohmann::json p = readJson(o.outputFolder / kProvenanceFile);
        QCOMPARE(p["options"]["method"].get<std::string>(), std::string("awq"));
        QCOMPARE(p["options"]["group_size"].get<int>(), 32);
        QVERIFY(p["calibration"]["digest"].get<std::string>().rfind("fnv1a64:", 0) == 0);
        QCOMPARE(p["calibration"]["blocks"].get<int64_t>(), r.calibrationBlocks);
        QCOMPARE(p["layers"].size(), size_t(2));
        QCOMPARE(p["layers"][0]["groups"].size(), size_t(4));
        QVERIFY(p["layers"][0]["groups"][0]["rtn_loss"].get<double>() > 0);
        // The same inputs give the same calibration digest.
        const QuantizeReport again = quantizeModel(options(m_model, m_root / "provenance-2"));
        QCOMPARE(readJson(m_root / "provenance-2" / kProvenanceFile)["calibration"]["digest"],
                 p["calibration"]["digest"]);
        QCOMPARE(again.groupLosses.size(), r.groupLosses.size());
    }

    // Issue 23, bug 6: the quantization estimate is an upper bound of the peak the run
    // records, also in a process that holds memory already (the application holds Qt, and
    // perhaps a chat model, while it quantizes), when taken in that process as the wizard
    // takes it. The recorded peak is the run's own, not the process's lifetime peak.
    void memoryEstimateBoundsTheRecordedPeak()
    {
        const QuantizeReport first = quantizeModel(options(m_model, m_root / "peak-1")); // libraries warmed up
        std::vector<char> held(size_t(320) << 20, 1); // resident: every page written
        const ModelConfig config = ModelConfig::load(m_model);
        const MemoryEstimate estimate = estimateMemory(config, 32, first.calibrationTokens);
        const QuantizeReport r = quantizeModel(options(m_model, m_root / "peak-2"));
        QVERIFY2(r.peakRssBytes <= estimate.quantizeCpu,
                 qPrintable(QStringLiteral("peak %1 MiB, estimate %2 MiB")
                                .arg(r.peakRssBytes >> 20)
                                .arg(estimate.quantizeCpu >> 20)));
        QVERIFY(r.peakRssBytes >= held.size());
        QCOMPARE(readJson(m_root / "peak-2" / kProvenanceFile)["peak_rss_bytes"].get<uint64_t>(), r.peakRssBytes);
        QCOMPARE(held[held.size() / 2], char(1));
    }

    void legacyQuantConfigJsonLoads()
    {
        QuantOptions o = options(m_model, m_root / "legacy");
        quantizeModel(o);
        nlohmann::json cfg = readJson(o.outputFolder / "config.json");
        cfg.erase("quantization_config");
        std::ofstream(o.outputFolder / "config.json") << cfg.dump();
        std::ofstream(o.outputFolder / "quant_config.json")
            << R"({"zero_point": true, "q_group_size": 32, "w_bit": 4, "version": "GEMM"})";
        LoadedModel legacy = loadModel(o.outputFolder);
        QVERIFY(legacy.config.quantization.present);
        QCOMPARE(legacy.config.quantization.version, std::string("gemm"));
        QCOMPARE(legacy.config.quantization.groupSize, 32);
    }

    void cancelLeavesNothingBehind()
    {
        const fs::path out = m_root / "cancelled";
        CancelToken cancel;
        bool sawLayer1 = false;
        auto onEvent = [&](const QuantEvent &e) {
            if (e.layer == 1 && e.phase == QuantPhase::ScaleSearch) {
                sawLayer1 = true;
                cancel.cancel();
            }
        };
        try {
            quantizeModel(options(m_model, out), onEvent, cancel);
            QFAIL("a cancelled run returned normally");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::Cancelled);
        }
        QVERIFY(sawLayer1);
        QVERIFY(!fs::exists(out));
        QVERIFY(!hasPartialSibling(out));
    }

    void existingOutputIsNeverTouchedOnFailure()
    {
        const fs::path out = m_root / "existing";
        fs::create_directories(out);
        std::ofstream(out / "keep.txt") << "precious";
        QuantOptions o = options(m_model, out);
        QVERIFY_EXCEPTION_THROWN(quantizeModel(o), Error); // exists, not empty, no overwrite
        QVERIFY(fs::exists(out / "keep.txt"));

        o.overwrite = true;
        CancelToken cancel;
        auto cancelInWriting = [&](const QuantEvent &e) {
            if (e.phase == QuantPhase::Writing)
                cancel.cancel();
        };
        QVERIFY_EXCEPTION_THROWN(quantizeModel(o, cancelInWriting, cancel), Error);
        QVERIFY(fs::exists(out / "keep.txt"));
        QVERIFY(!fs::exists(out / "config.json"));
        QVERIFY(!hasPartialSibling(out));

        quantizeModel(o); // overwrite, completed: replaced
        QVERIFY(!fs::exists(out / "keep.txt"));
        QVERIFY(fs::exists(out / "config.json"));
    }

    void badRequestsAreRefusedWithReasons_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expected");
        QTest::newRow("zero blocks") << "zero-blocks" << "yields no calibration block";
        QTest::newRow("3-bit packed") << "w3-packed" << "4-bit";
        QTest::newRow("symmetric packed") << "symmetric-packed" << "zero points";
        QTest::newRow("group size") << "group-48" << "does not divide";
        QTest::newRow("already quantized") << "quantized-input" << "already quantized";
        QTest::newRow("missing model") << "missing-model" << "not found";
        QTest::newRow("missing calibration") << "missing-calib" << "not found";
    }
    void badRequestsAreRefusedWithReasons()
    {
        QFETCH(QString, what);
        QFETCH(QString, expected);
        const fs::path out = m_root / ("bad-" + what.toStdString());
        QuantOptions o = options(m_model, out);
        if (what == "zero-blocks") {
            const fs::path tiny = m_root / "tiny-calib.txt";
            std::ofstream(tiny) << "just a few words\n";
            o.calibration.source.path = tiny;
        } else if (what == "w3-packed") {
            o.quantizer.bits = 3;
        } else if (what == "symmetric-packed") {
            o.quantizer.zeroPoint = false;
        } else if (what == "group-48") {
            o.quantizer.groupSize = 48;
        } else if (what == "quantized-input") {
            QuantOptions first = options(m_model, m_root / "quantized-input");
            quantizeModel(first);
            o.modelFolder = first.outputFolder;
        } else if (what == "missing-model") {
            o.modelFolder = m_root / "no-such-model";
        } else if (what == "missing-calib") {
            o.calibration.source.path = m_root / "no-such-calib.txt";
        }
        try {
            quantizeModel(o);
            QFAIL("the bad request was accepted");
        } catch (const Error &e) {
            QVERIFY2(QString::fromStdString(e.what()).contains(expected), e.what());
        }
        QVERIFY(!fs::exists(out));
        QVERIFY(!hasPartialSibling(out));
    }
};

QTEST_GUILESS_MAIN(TestQuantizeJob)
#include "tst_quantize_job.moc"
