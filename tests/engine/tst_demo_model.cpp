// The bundled demo model (resources/models/demo-llama) is what a fresh install quantizes,
// chats with and benchmarks. Its recorded held-out perplexity (evaluation.json, also in
// docs/quality.md) must still be what the engine computes, within 1 %.

#include <fstream>
#include <sstream>

#include <QtTest>
#include <nlohmann/json.hpp>

#include "awq/eval/perplexity.h"
#include "awq/runtime/decoder_model.h"
#include "awq/runtime/loaded_model.h"
#include "awq/runtime/resources.h"

namespace fs = std::filesystem;
using namespace awq;

class TestDemoModel : public QObject
{
    Q_OBJECT

    fs::path m_model;
    nlohmann::json m_recorded;

    static std::string readText(const fs::path &path)
    {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_model = findData(kDemoModelPath);
        QVERIFY2(!m_model.empty(), "the demo model is not in any data folder");
        std::ifstream in(m_model / "evaluation.json");
        QVERIFY2(in, "evaluation.json is missing from the demo model");
        m_recorded = nlohmann::json::parse(in);
    }

    void heldOutPerplexityMatchesTheRecord()
    {
        const fs::path text = findData(m_recorded.at("heldout_text").get<std::string>());
        QVERIFY(!text.empty());
        LoadedModel loaded = loadModel(m_model);
        const int64_t seqLen = m_recorded.at("seq_len").get<int64_t>();
        ReferenceDecoder decoder(*loaded.model);
        const PerplexityResult r = evaluatePerplexity(decoder, *loaded.tokenizer, readText(text), seqLen);
        const double recorded = m_recorded.at("perplexity").get<double>();
        qInfo("held-out perplexity %.4f (recorded %.4f) over %lld windows of %lld", r.perplexity, recorded,
              static_cast<long long>(r.windows), static_cast<long long>(r.seqLen));
        QVERIFY2(std::abs(r.perplexity / recorded - 1.0) < 0.01,
                 qPrintable(QString("perplexity %1 is not within 1% of the recorded %2").arg(r.perplexity).arg(recorded)));
        // Far below what token frequencies alone give.
        QVERIFY(r.perplexity < 0.5 * m_recorded.at("unigram_perplexity").get<double>());
    }

    void shippedFilesAreComplete()
    {
        for (const char *name : {"config.json", "model.safetensors", "tokenizer.model", "tokenizer_config.json",
                                 "generation_config.json", "README.md"})
            QVERIFY2(fs::exists(m_model / name), name);
        QVERIFY(fs::file_size(m_model / "model.safetensors") < 40ull * 1000 * 1000);
        QVERIFY(!findData(kCalibrationTextPath).empty());
        QVERIFY(!findData(kHeldOutTextPath).empty());
    }
};

QTEST_GUILESS_MAIN(TestDemoModel)
#include "tst_demo_model.moc"
