// The sentencepiece tokenizer through the isolated shim, in a process where LibTorch
// is loaded and used (the protobuf clash this guards against would show up here).

#include <QtTest>

#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/tokenizer/tokenizer.h"
#include "fixture_model.h"

using namespace awq;
namespace fs = std::filesystem;

namespace {

void touchTorch()
{
    // Keep LibTorch (and its protobuf) loaded and active around every tokenizer call.
    QCOMPARE(at::ones({2, 2}).sum().item<float>(), 4.0f);
}

fs::path folderWith(const std::string &tag, const nlohmann::json &tokenizerConfig)
{
    const fs::path dir = awq::test::makeTempDir(tag);
    fs::copy_file(awq::test::fixtureTokenizerModel(), dir / "tokenizer.model");
    if (!tokenizerConfig.is_null())
        std::ofstream(dir / "tokenizer_config.json") << tokenizerConfig.dump();
    return dir;
}

} // namespace

class TestTokenizer : public QObject
{
    Q_OBJECT
    std::unique_ptr<Tokenizer> m_tok;

private Q_SLOTS:
    void initTestCase()
    {
        touchTorch();
        m_tok = Tokenizer::fromSentencePieceFile(awq::test::fixtureTokenizerModel());
        touchTorch();
        QVERIFY(m_tok->vocabSize() >= 300);
    }

    void roundTripAscii()
    {
        const std::string text = "The old sailor walked along the long road before the rain began.";
        const auto ids = m_tok->encode(text, false);
        touchTorch();
        QVERIFY(!ids.empty());
        QVERIFY(ids.size() < text.size()); // merges happened
        QCOMPARE(m_tok->decode(ids), text);
    }

    void roundTripUnseenCharactersViaByteFallback()
    {
        const std::string text = "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 \xE2\x82\xAC" "5";
        const auto ids = m_tok->encode(text, false);
        QCOMPARE(m_tok->decode(ids), text);
        // Byte pieces look like <0xE6>.
        bool sawByte = false;
        for (int32_t id : ids)
            sawByte |= m_tok->idToPiece(id).rfind("<0x", 0) == 0;
        QVERIFY(sawByte);
        QVERIFY(std::find(ids.begin(), ids.end(), m_tok->unkId()) == ids.end());
    }

    void bosHandling()
    {
        const auto with = m_tok->encode("hello", true);
        const auto without = m_tok->encode("hello", false);
        QCOMPARE(with.front(), m_tok->bosId());
        QCOMPARE(with.size(), without.size() + 1);
        QVERIFY(m_tok->bosId() >= 0 && m_tok->eosId() >= 0 && m_tok->bosId() != m_tok->eosId());
        // decode drops BOS and EOS.
        auto ids = with;
        ids.push_back(m_tok->eosId());
        QCOMPARE(m_tok->decode(ids), std::string("hello"));
        QVERIFY_THROWS_EXCEPTION(awq::Error, m_tok->decode({m_tok->vocabSize()}));
    }

    void pieceIdConsistency()
    {
        for (int32_t id = 0; id < m_tok->vocabSize(); id += 7)
            QCOMPARE(m_tok->pieceToId(m_tok->idToPiece(id)), id);
        QCOMPARE(m_tok->pieceToId("definitely-not-a-piece-\x01"), -1);
        QCOMPARE(m_tok->bosToken(), std::string("<s>"));
        QCOMPARE(m_tok->eosToken(), std::string("</s>"));
    }

    void tokenizerConfigStringForms()
    {
        const auto dir = folderWith("tokcfg-string", {{"bos_token", "<s>"},
                                                      {"eos_token", "</s>"},
                                                      {"add_bos_token", false},
                                                      {"chat_template", "{{ messages }}"}});
        auto t = Tokenizer::load(dir);
        touchTorch();
        QVERIFY(!t->addBosByDefault());
        QVERIFY(t->encode("hi").front() != t->bosId());
        QCOMPARE(*t->chatTemplate(), std::string("{{ messages }}"));
    }

    void tokenizerConfigObjectForms()
    {
        nlohmann::json added = {{"content", "</s>"}, {"lstrip", false}, {"__type", "AddedToken"}};
        const auto dir = folderWith(
            "tokcfg-object",
            {{"eos_token", added},
             {"chat_template", {{{"name", "tool_use"}, {"template", "tools"}}, {{"name", "default"}, {"template", "chat"}}}}});
        auto t = Tokenizer::load(dir);
        QCOMPARE(t->eosId(), m_tok->eosId());
        QVERIFY(t->addBosByDefault());
        QCOMPARE(*t->chatTemplate(), std::string("chat"));
    }

    void tokenizerConfigErrorsNameTheFile()
    {
        const auto dir = folderWith("tokcfg-bad", nullptr);
        std::ofstream(dir / "tokenizer_config.json") << "{ broken";
        try {
            Tokenizer::load(dir);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::Format);
            QVERIFY2(std::string(e.what()).find("tokenizer_config.json") != std::string::npos, e.what());
        }
        std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token": "<not-in-vocab>"})";
        QVERIFY_THROWS_EXCEPTION(awq::Error, Tokenizer::load(dir));
    }

    // Wrong types in tokenizer_config.json (issue 11): each names the file and the key.
    void tokenizerConfigWrongTypes_data()
    {
        QTest::addColumn<QString>("config");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bos_token number") << R"({"bos_token": 7})" << "'bos_token' must be a string";
        QTest::newRow("eos_token list") << R"({"eos_token": ["</s>"]})" << "'eos_token' must be a string";
        QTest::newRow("eos_token content number") << R"({"eos_token": {"content": 2}})" << "'eos_token' must be";
        QTest::newRow("add_bos_token string") << R"({"add_bos_token": "yes"})" << "'add_bos_token' must be true";
        QTest::newRow("chat_template number") << R"({"chat_template": 42})" << "'chat_template' must be a string";
        QTest::newRow("chat_template entry") << R"({"chat_template": [{"name": "default"}]})"
                                             << "'chat_template' entries need";
        QTest::newRow("not an object") << R"(["bos_token"])" << "expected a JSON object";
    }
    void tokenizerConfigWrongTypes()
    {
        QFETCH(QString, config);
        QFETCH(QString, expected);
        const auto dir = folderWith("tokcfg-types", nullptr);
        std::ofstream(dir / "tokenizer_config.json") << config.toStdString();
        try {
            Tokenizer::load(dir);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::Format);
            QVERIFY2(std::string(e.what()).find("tokenizer_config.json") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find(expected.toStdString()) != std::string::npos, e.what());
        }
    }

    void missingAndCorruptModels()
    {
        const auto empty = awq::test::makeTempDir("tok-missing");
        try {
            Tokenizer::load(empty);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::NotFound);
            QVERIFY(std::string(e.what()).find("tokenizer.model") != std::string::npos);
        }
        std::ofstream(empty / "tokenizer.json") << "{}";
        try {
            Tokenizer::load(empty);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(std::string(e.what()).find("tokenizer.json") != std::string::npos);
        }
        const auto corrupt = awq::test::makeTempDir("tok-corrupt");
        std::ofstream out(corrupt / "tokenizer.model", std::ios::binary);
        for (int i = 0; i < 4096; ++i)
            out.put(static_cast<char>((i * 2654435761u) >> 13));
        out.close();
        touchTorch();
        try {
            Tokenizer::load(corrupt);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::Format);
            QVERIFY(std::string(e.what()).find("not a valid sentencepiece model") != std::string::npos);
        }
        touchTorch();
    }
};

QTEST_APPLESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
