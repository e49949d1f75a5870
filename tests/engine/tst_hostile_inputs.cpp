// Hostile inputs: files planted in a model folder, a calibration set or a saved
// conversation that try to escape the folder, hang a reader, exhaust memory or the
// stack, or smuggle absurd values past the parsers. Each must give an awq::Error that
// names the file and the problem, before anything is allocated from it.
// docs/reliability.md lists every case with the message it gives.

#include <QtTest>

#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/chat/conversation.h"
#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/io/safetensors.h"
#include "awq/model/config.h"
#include "awq/model/model_info.h"
#include "awq/quant/calibration.h"
#include "awq/runtime/resources.h"

using namespace awq;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path freshDir(const std::string &tag)
{
    const char *root = std::getenv("AWQ_TEST_TMP");
    const fs::path dir = fs::path(root ? root : fs::temp_directory_path().string()) / ("hostile-" + tag);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

void writeText(const fs::path &file, const std::string &text)
{
    std::ofstream out(file, std::ios::binary);
    out << text;
}

// 8-byte little-endian header length, the header, then `dataBytes` bytes.
void writeRawSafetensors(const fs::path &path, const std::string &header, size_t dataBytes)
{
    std::ofstream out(path, std::ios::binary);
    for (int b = 0; b < 8; ++b)
        out.put(static_cast<char>((uint64_t(header.size()) >> (8 * b)) & 0xFF));
    out << header << std::string(dataBytes, '\0');
}

std::string nested(int depth, const std::string &inner = "1")
{
    return std::string(static_cast<size_t>(depth), '[') + inner + std::string(static_cast<size_t>(depth), ']');
}

// Runs `f`, which must throw awq::Error with `code` and a message holding every part.
void expectError(const std::function<void()> &f, ErrorCode code, const std::vector<std::string> &parts)
{
    try {
        f();
    } catch (const awq::Error &e) {
        const std::string message = e.what();
        qInfo("%s: %s", errorCodeName(e.code()), message.c_str()); // docs/reliability.md quotes these
        QVERIFY2(e.code() == code, (std::string(errorCodeName(e.code())) + ": " + message).c_str());
        for (const std::string &part : parts)
            QVERIFY2(message.find(part) != std::string::npos, ("'" + part + "' not in: " + message).c_str());
        return;
    }
    QFAIL(("no error; expected one containing '" + parts.front() + "'").c_str());
}

json llamaConfig()
{
    return json{{"model_type", "llama"},    {"hidden_size", 64},        {"intermediate_size", 128},
                {"num_hidden_layers", 2},   {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                {"vocab_size", 256},        {"max_position_embeddings", 128}};
}

void makeFifo(const fs::path &path)
{
    QVERIFY2(::mkfifo(path.c_str(), 0600) == 0, path.c_str());
}

} // namespace

class TestHostileInputs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // ---- safetensors headers ----
    void duplicateTensorNamesAreRefused()
    {
        const fs::path file = freshDir("dup") / "model.safetensors";
        writeRawSafetensors(file,
                            R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                            8);
        expectError([&] { SafetensorsFile::open(file); }, ErrorCode::Format,
                    {file.string(), "key 'w' appears twice"});
    }

    void deeplyNestedHeaderIsRefusedWithoutRecursion()
    {
        // 200 000 levels: printing this recursively in an error message would overflow the stack.
        const fs::path file = freshDir("deep") / "model.safetensors";
        writeRawSafetensors(file, R"({"w":{"dtype":"F32","shape":)" + nested(200000) + R"(,"data_offsets":[0,4]}})", 4);
        expectError([&] { SafetensorsFile::open(file); }, ErrorCode::Format, {file.string(), "nests deeper than"});
    }

    void shapeLimits_data()
    {
        QTest::addColumn<QString>("shape");
        QTest::addColumn<QString>("expected");
        QTest::newRow("int64 max") << "[9223372036854775807]" << "overflows";
        QTest::newRow("product over int64") << "[3037000500,3037000500]" << "overflows";
        QTest::newRow("rank 17") << "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]" << "17 dimensions";
        QTest::newRow("nested dims") << "[[2],[2]]" << "an array of 2 items";
        QTest::newRow("float dim") << "[2.5]" << "non-negative integers";
    }
    void shapeLimits()
    {
        QFETCH(QString, shape);
        QFETCH(QString, expected);
        const fs::path file = freshDir("shape") / "model.safetensors";
        writeRawSafetensors(file, R"({"w":{"dtype":"U8","shape":)" + shape.toStdString() + R"(,"data_offsets":[0,1]}})",
                            1);
        expectError([&] { SafetensorsFile::open(file); }, ErrorCode::Format,
                    {file.string(), "tensor 'w'", expected.toStdString()});
    }

    void aFifoIsRefusedWithoutBlocking()
    {
        const fs::path dir = freshDir("fifo");
        makeFifo(dir / "model.safetensors");
        expectError([&] { SafetensorsFile::open(dir / "model.safetensors"); }, ErrorCode::Format,
                    {"model.safetensors", "not a regular file"});
        makeFifo(dir / "config.json");
        expectError([&] { ModelConfig::load(dir); }, ErrorCode::Format, {"config.json", "not a regular file"});
    }

    // ---- model.safetensors.index.json ----
    void indexEntriesMustStayInTheFolder_data()
    {
        QTest::addColumn<QString>("entry");
        QTest::newRow("dot") << ".";
        QTest::newRow("dot dot") << "..";
        QTest::newRow("parent") << "../../x.safetensors";
        QTest::newRow("absolute") << "/tmp/x.safetensors";
        QTest::newRow("backslash") << "..\\x.safetensors";
        QTest::newRow("empty") << "";
    }
    void indexEntriesMustStayInTheFolder()
    {
        QFETCH(QString, entry);
        const fs::path dir = freshDir("index-entry") / "model";
        fs::create_directories(dir);
        writeSafetensorsFile(dir.parent_path() / "x.safetensors", {{"a", at::ones({2})}});
        writeText(dir / "model.safetensors.index.json", json{{"weight_map", {{"a", entry.toStdString()}}}}.dump());
        expectError([&] { WeightStore::openFolder(dir); }, ErrorCode::Format,
                    {"model.safetensors.index.json", "entry for 'a'", "not a plain file name"});
    }

    void symlinksOutOfTheFolderAreRefused()
    {
        const fs::path root = freshDir("symlink");
        const fs::path dir = root / "model";
        fs::create_directories(dir);
        writeSafetensorsFile(root / "outside.safetensors", {{"a", at::ones({2})}});
        // Through the index ...
        fs::create_symlink("../outside.safetensors", dir / "shard-1.safetensors");
        writeText(dir / "model.safetensors.index.json", json{{"weight_map", {{"a", "shard-1.safetensors"}}}}.dump());
        expectError([&] { WeightStore::openFolder(dir); }, ErrorCode::Format,
                    {"model.safetensors.index.json", "'shard-1.safetensors' is a link to", "outside the model folder"});
        // ... as the single model.safetensors ...
        fs::remove(dir / "model.safetensors.index.json");
        fs::create_symlink(root / "outside.safetensors", dir / "model.safetensors");
        expectError([&] { WeightStore::openFolder(dir); }, ErrorCode::Format,
                    {"model.safetensors", "outside the model folder"});
        // ... and found by scanning the folder.
        fs::remove(dir / "model.safetensors");
        expectError([&] { WeightStore::openFolder(dir); }, ErrorCode::Format,
                    {"shard-1.safetensors", "outside the model folder"});
        // A dangling link named by the index is reported as missing.
        fs::remove(dir / "shard-1.safetensors");
        fs::create_symlink("nowhere.safetensors", dir / "shard-1.safetensors");
        writeText(dir / "model.safetensors.index.json", json{{"weight_map", {{"a", "shard-1.safetensors"}}}}.dump());
        expectError([&] { WeightStore::openFolder(dir); }, ErrorCode::NotFound,
                    {"model.safetensors.index.json", "shard-1.safetensors"});
    }

    void linksInsideTheFolderAndTheHuggingFaceCacheAreRead()
    {
        // models--org--name/snapshots/<rev>/model.safetensors -> ../../blobs/<hash>
        const fs::path repo = freshDir("hf-cache") / "models--org--tiny";
        fs::create_directories(repo / "blobs");
        fs::create_directories(repo / "snapshots" / "abc123");
        writeSafetensorsFile(repo / "blobs" / "tmp.safetensors", {{"a", at::ones({2})}});
        fs::rename(repo / "blobs" / "tmp.safetensors", repo / "blobs" / "0f1e2d");
        fs::create_symlink("../../blobs/0f1e2d", repo / "snapshots" / "abc123" / "model.safetensors");
        auto store = WeightStore::openFolder(repo / "snapshots" / "abc123");
        QCOMPARE(store->load("a", at::kFloat).sum().item<float>(), 2.0f);

        const fs::path plain = freshDir("inside-link");
        writeSafetensorsFile(plain / "real.safetensors", {{"b", at::ones({3})}});
        fs::rename(plain / "real.safetensors", plain / "real.bin");
        fs::create_symlink("real.bin", plain / "model.safetensors");
        QCOMPARE(WeightStore::openFolder(plain)->info("b").shape, std::vector<int64_t>{3});
    }

    void indexThatIsNotAnIndex()
    {
        const fs::path dir = freshDir("index-kind");
        writeSafetensorsFile(dir / "s.safetensors", {{"a", at::ones({2})}});
        const fs::path index = dir / "model.safetensors.index.json";
        writeText(index, R"({"weight_map":{"a":7}})");
        expectError([&] { WeightStore::openFolder(dir); }, ErrorCode::Format, {index.string(), "is not a file name"});
        writeText(index, R"({"weight_map":)" + nested(100000) + "}");
        expectError([&] { WeightStore::openFolder(dir); }, ErrorCode::Format, {index.string(), "nests deeper"});
        writeText(index, R"({"weight_map":{}})");
        expectError([&] { WeightStore::openFolder(dir); }, ErrorCode::Format, {index.string(), "weight_map is empty"});
    }

    // ---- config.json ----
    void absurdConfigsAreRefused_data()
    {
        QTest::addColumn<QString>("patch"); // merged into a valid config
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("expected");
        QTest::newRow("hidden_size 0") << R"({"hidden_size":0})" << "hidden_size" << "out of range";
        QTest::newRow("hidden_size negative") << R"({"hidden_size":-64})" << "hidden_size" << "out of range";
        QTest::newRow("hidden_size string") << R"({"hidden_size":"64"})" << "hidden_size" << "must be an integer";
        QTest::newRow("hidden_size nested") << R"({"hidden_size":[[64]]})" << "hidden_size" << "an array of 1 items";
        QTest::newRow("hidden_size 1e300") << R"({"hidden_size":1e300})" << "hidden_size" << "out of range";
        QTest::newRow("hidden_size fraction") << R"({"hidden_size":64.5})" << "hidden_size" << "must be an integer";
        QTest::newRow("heads do not divide") << R"({"hidden_size":66})" << "num_attention_heads"
                                             << "must be a multiple of num_attention_heads";
        QTest::newRow("heads 0") << R"({"num_attention_heads":0})" << "num_attention_heads" << "out of range";
        QTest::newRow("kv heads do not divide") << R"({"num_key_value_heads":3})" << "num_key_value_heads"
                                                << "multiple";
        QTest::newRow("head_dim 0") << R"({"head_dim":0})" << "head_dim" << "out of range";
        QTest::newRow("head_dim odd") << R"({"head_dim":15})" << "head_dim" << "must be even";
        QTest::newRow("vocab 10^12") << R"({"vocab_size":1000000000000})" << "vocab_size" << "out of range";
        QTest::newRow("layers 100000") << R"({"num_hidden_layers":100000})" << "num_hidden_layers" << "out of range";
        QTest::newRow("layers huge unsigned") << R"({"num_hidden_layers":18446744073709551615})"
                                              << "num_hidden_layers" << "out of range";
        QTest::newRow("positions 10^9") << R"({"max_position_embeddings":1000000000})" << "max_position_embeddings"
                                        << "out of range";
        QTest::newRow("rope_theta negative") << R"({"rope_theta":-1})" << "rope_theta" << "out of range";
        QTest::newRow("rms_norm_eps string") << R"({"rms_norm_eps":"1e-5"})" << "rms_norm_eps" << "must be a number";
        QTest::newRow("too many parameters")
            << R"({"hidden_size":1048576,"intermediate_size":1048576,"num_hidden_layers":1024,"num_attention_heads":1024,"num_key_value_heads":1024})"
            << "num_hidden_layers" << "parameters, more than";
        QTest::newRow("heads x head_dim") << R"({"num_attention_heads":1048576,"num_key_value_heads":1,"head_dim":1048576})"
                                          << "head_dim" << "implausibly large";
        QTest::newRow("eos list of strings") << R"({"eos_token_id":["</s>"]})" << "eos_token_id" << "token ids";
        QTest::newRow("quantization bits 99") << R"({"quantization_config":{"bits":99}})" << "bits" << "out of range";
    }
    void absurdConfigsAreRefused()
    {
        QFETCH(QString, patch);
        QFETCH(QString, field);
        QFETCH(QString, expected);
        const fs::path dir = freshDir("config");
        json config = llamaConfig();
        config.merge_patch(json::parse(patch.toStdString()));
        writeText(dir / "config.json", config.dump());
        expectError([&] { ModelConfig::load(dir); }, ErrorCode::Format,
                    {(dir / "config.json").string(), field.toStdString(), expected.toStdString()});
    }

    void validConfigStillLoads()
    {
        const fs::path dir = freshDir("config-ok");
        writeText(dir / "config.json", llamaConfig().dump());
        const ModelConfig c = ModelConfig::load(dir);
        QCOMPARE(c.headDim, int64_t(16));
        QCOMPARE(c.numKvHeads, int64_t(2));
    }

    void oversizedOrDeepJsonFilesAreRefused()
    {
        const fs::path dir = freshDir("json-size");
        // A sparse file: no disk used, and never read, only its size.
        std::ofstream(dir / "config.json").close();
        fs::resize_file(dir / "config.json", kMaxJsonFileBytes + 1);
        expectError([&] { ModelConfig::load(dir); }, ErrorCode::Format, {"config.json", "too large for a JSON file"});
        writeText(dir / "config.json", R"({"model_type":"llama","hidden_size":)" + nested(kMaxJsonDepth + 1) + "}");
        expectError([&] { ModelConfig::load(dir); }, ErrorCode::Format, {"config.json", "nests deeper than 128"});
        fs::remove(dir / "config.json");
        fs::create_directory(dir / "config.json");
        expectError([&] { readJsonFile(dir / "config.json"); }, ErrorCode::Format, {"config.json", "not a regular file"});
    }

    // ---- tokenizer_config.json, as the model inspector reads it ----
    void brokenTokenizerConfigIsReportedNotThrown()
    {
        const fs::path dir = freshDir("tokenizer-config");
        writeText(dir / "config.json", llamaConfig().dump());
        writeText(dir / "tokenizer_config.json", nested(5000));
        const ModelInfo info = inspectModel(dir);
        bool reported = false;
        for (const std::string &problem : info.problems)
            reported |= problem.find("tokenizer_config.json") != std::string::npos
                        && problem.find("nests deeper") != std::string::npos;
        QVERIFY2(reported, "the inspector should list the tokenizer_config.json problem");
        QVERIFY(!info.hasChatTemplate);
    }

    // The inspector (awq info, the library, the wizard) loads the tokenizer as a run would:
    // a damaged tokenizer.model, or one with more tokens than the embeddings have rows, is
    // listed among the problems.
    void brokenTokenizerIsReported()
    {
        const fs::path demo = findData(kDemoModelPath);
        QVERIFY2(!demo.empty(), "the demo model is not in any data folder");
        const fs::path dir = freshDir("tokenizer");
        for (const char *file : {"config.json", "tokenizer.model", "tokenizer_config.json"})
            fs::copy_file(demo / file, dir / file);
        const auto reported = [&](const std::string &a, const std::string &b) {
            for (const std::string &problem : inspectModel(dir).problems)
                if (problem.find(a) != std::string::npos && problem.find(b) != std::string::npos) {
                    qInfo("%s", problem.c_str());
                    return true;
                }
            return false;
        };
        QVERIFY(!reported("tokenizer.model", ""));
        nlohmann::json config = readJsonFile(dir / "config.json");
        config["vocab_size"] = 100;
        writeText(dir / "config.json", config.dump());
        QVERIFY(reported("tokenizer.model: the tokenizer has", "more than config.json's vocab_size 100"));
        writeText(dir / "tokenizer.model", "not a sentencepiece model");
        QVERIFY(reported("tokenizer.model", ""));
    }

    // ---- calibration ----
    void calibrationJsonlWithWrongTypes_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("expected");
        QTest::newRow("number") << R"({"text": 42})" << "is not a string";
        QTest::newRow("list") << R"({"text": ["a", "b"]})" << "is not a string";
        QTest::newRow("object") << R"({"text": {"en": "a"}})" << "is not a string";
        QTest::newRow("null") << R"({"text": null})" << "is not a string";
        QTest::newRow("top-level list") << "[\"text\"]" << "expected a JSON object";
        QTest::newRow("deep") << QString::fromStdString(R"({"text": )" + nested(50000) + "}") << "nests deeper";
        QTest::newRow("truncated") << "{\"text\": \"abc" << "not valid JSON";
    }
    void calibrationJsonlWithWrongTypes()
    {
        QFETCH(QString, line);
        QFETCH(QString, expected);
        const fs::path file = freshDir("calib-jsonl") / "data.jsonl";
        writeText(file, "{\"text\": \"fine\"}\n" + line.toStdString() + "\n");
        CalibrationSource source;
        source.kind = CalibrationSource::Kind::Jsonl;
        source.path = file;
        source.jsonField = "text";
        expectError([&] { readCalibrationRecords(source); }, ErrorCode::Format,
                    {file.string() + ":2", expected.toStdString()});
    }

    void calibrationFilesThatAreTooLargeOrNotFiles()
    {
        const fs::path dir = freshDir("calib-size");
        std::ofstream(dir / "huge.txt").close();
        fs::resize_file(dir / "huge.txt", (1ull << 30) + 1); // sparse: nothing is written or read
        CalibrationSource source;
        source.kind = CalibrationSource::Kind::TextFile;
        source.path = dir / "huge.txt";
        expectError([&] { readCalibrationRecords(source); }, ErrorCode::InvalidArgument,
                    {"huge.txt", "too large for calibration text"});
        makeFifo(dir / "pipe.txt");
        source.path = dir / "pipe.txt";
        expectError([&] { readCalibrationRecords(source); }, ErrorCode::InvalidArgument,
                    {"pipe.txt", "not a regular file"});
    }

    // ---- saved conversations ----
    void conversationsWithAbsurdValues_data()
    {
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("expected");
        QTest::newRow("temperature negative") << R"({"settings":{"temperature":-1}})" << "settings.temperature"
                                              << "out of range";
        QTest::newRow("temperature 1e308") << R"({"settings":{"temperature":1e308}})" << "settings.temperature"
                                           << "out of range";
        QTest::newRow("topP 0") << R"({"settings":{"topP":0}})" << "settings.topP" << "out of range (0, 1]";
        QTest::newRow("topP 1.5") << R"({"settings":{"topP":1.5}})" << "settings.topP" << "out of range";
        QTest::newRow("topK negative") << R"({"settings":{"topK":-1}})" << "settings.topK" << "out of range";
        QTest::newRow("maxNewTokens 0") << R"({"settings":{"maxNewTokens":0}})" << "settings.maxNewTokens"
                                        << "out of range";
        QTest::newRow("maxNewTokens 10^12") << R"({"settings":{"maxNewTokens":1000000000000}})"
                                            << "settings.maxNewTokens" << "out of range";
        QTest::newRow("maxNewTokens above int64") << R"({"settings":{"maxNewTokens":18446744073709551615}})"
                                                  << "settings.maxNewTokens" << "must be an integer";
        QTest::newRow("penalty 0") << R"({"settings":{"repetitionPenalty":0}})" << "settings.repetitionPenalty"
                                   << "out of range";
        QTest::newRow("seed negative") << R"({"settings":{"seed":-1}})" << "settings.seed" << "non-negative";
        QTest::newRow("settings a list") << R"({"settings":[1]})" << "settings" << "must be a JSON object";
    }
    void conversationsWithAbsurdValues()
    {
        QFETCH(QString, patch);
        QFETCH(QString, field);
        QFETCH(QString, expected);
        json doc = chat::toJson(chat::Conversation{});
        doc.merge_patch(json::parse(patch.toStdString()));
        const fs::path file = freshDir("conversation") / "chat.json";
        writeText(file, doc.dump());
        expectError([&] { chat::loadConversation(file); }, ErrorCode::Format,
                    {file.string(), "'" + field.toStdString(), expected.toStdString()});
    }

    void conversationStatsMustBeSane()
    {
        json doc = chat::toJson(chat::Conversation{});
        doc["turns"] = json::array({json{{"role", "assistant"}, {"content", "hi"},
                                         {"stats", {{"generatedTokens", -5}}}}});
        expectError([&] { chat::conversationFromJson(doc, "saved.json"); }, ErrorCode::Format,
                    {"saved.json", "turns[0].stats.generatedTokens", "out of range"});
        doc["turns"][0]["stats"] = {{"totalSeconds", -0.5}};
        expectError([&] { chat::conversationFromJson(doc, "saved.json"); }, ErrorCode::Format,
                    {"turns[0].stats.totalSeconds", "out of range"});
        doc["turns"][0]["stats"] = {{"promptTokens", 1}, {"totalSeconds", 2.5}};
        QCOMPARE(chat::conversationFromJson(doc, "saved.json").turns.at(0).stats->promptTokens, int64_t(1));
    }
};

QTEST_APPLESS_MAIN(TestHostileInputs)
#include "tst_hostile_inputs.moc"
