// Safetensors: round trips for every dtype, sharding with an index, atomic writes,
// and malformed files that must give a clear error (never a crash).

#include <QtTest>

#include <cstring>
#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"

using namespace awq;
namespace fs = std::filesystem;

namespace {

fs::path freshDir(const char *tag)
{
    const char *root = std::getenv("AWQ_TEST_TMP");
    fs::path dir = (root ? fs::path(root) : fs::temp_directory_path()) / ("safetensors-" + std::string(tag));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// Writes a raw file: 8-byte little-endian header length, header text, then `data` bytes.
void writeRaw(const fs::path &path, const std::string &header, size_t dataBytes, uint64_t lengthOverride = 0)
{
    std::ofstream out(path, std::ios::binary);
    const uint64_t length = lengthOverride ? lengthOverride : header.size();
    for (int b = 0; b < 8; ++b)
        out.put(static_cast<char>((length >> (8 * b)) & 0xFF));
    out << header << std::string(dataBytes, '\x01');
}

bool bitEqual(const at::Tensor &a, const at::Tensor &b)
{
    // Empty tensors have no storage (data_ptr() is null), and memcmp on null is undefined
    // even for 0 bytes (UBSan, docs/reliability.md).
    return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes()
           && (a.nbytes() == 0 || std::memcmp(a.contiguous().data_ptr(), b.contiguous().data_ptr(), a.nbytes()) == 0);
}

} // namespace

class TestSafetensors : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void roundTripEveryDtype()
    {
        const fs::path dir = freshDir("dtypes");
        std::vector<std::pair<std::string, at::Tensor>> tensors = {
            {"f64", at::randn({3, 5}, at::kDouble)},
            {"f32", at::randn({7}, at::kFloat)},
            {"f16", at::randn({2, 3, 4}).to(at::kHalf)},
            {"bf16", at::randn({4, 4}).to(at::kBFloat16)},
            {"i64", at::randint(-1000000, 1000000, {6}, at::kLong)},
            {"i32", at::randint(INT32_MIN, INT32_MAX, {16, 2}, at::kInt)},
            {"i16", at::randint(-30000, 30000, {5}, at::kShort)},
            {"i8", at::randint(-128, 127, {9}, at::kChar)},
            {"u8", at::randint(0, 255, {3, 3}, at::kByte)},
            {"bool", at::randint(0, 2, {10}, at::kLong).to(at::kBool)},
            {"empty", at::empty({0, 4}, at::kFloat)},
            {"scalar", at::tensor(3.5f).reshape({})},
        };
        writeSafetensorsFile(dir / "model.safetensors", tensors, {{"format", "pt"}, {"note", "round trip"}});
        auto file = SafetensorsFile::open(dir / "model.safetensors");
        QCOMPARE(file->metadata().at("format"), std::string("pt"));
        QCOMPARE(file->metadata().at("note"), std::string("round trip"));
        QCOMPARE(file->names().size(), tensors.size());
        for (const auto &[name, tensor] : tensors) {
            QVERIFY2(bitEqual(file->view(name), tensor), name.c_str());
            QVERIFY2(bitEqual(file->load(name, tensor.scalar_type()), tensor), name.c_str());
        }
        // Conversion on load.
        QVERIFY(at::allclose(file->load("f16", at::kFloat), tensors[2].second.to(at::kFloat)));
        // view() is zero-copy: it points into the mapping.
        QCOMPARE(file->view("f32").data_ptr(), static_cast<void *>(const_cast<uint8_t *>(file->data("f32"))));
        // The data section starts 8-byte aligned (header padded with spaces).
        QCOMPARE(file->info(file->names().front()).fileOffset % 8, uint64_t(0));
    }

    void shardedRoundTrip()
    {
        const fs::path dir = freshDir("sharded");
        SafetensorsWriteOptions options;
        options.maxShardBytes = 1000; // each 256-float tensor (1024 bytes) gets its own shard
        std::vector<at::Tensor> tensors;
        {
            SafetensorsWriter writer(dir, options);
            for (int i = 0; i < 3; ++i) {
                tensors.push_back(at::randn({256}));
                writer.add("layer." + std::to_string(i), tensors.back());
            }
            tensors.push_back(at::randn({4}));
            writer.add("small", tensors.back()); // 1024 + 16 > 1000: a fourth shard
            const auto written = writer.finish();
            QCOMPARE(written.size(), size_t(5));
        }
        QVERIFY(fs::exists(dir / "model-00001-of-00004.safetensors"));
        QVERIFY(fs::exists(dir / "model-00004-of-00004.safetensors"));
        QVERIFY(!fs::exists(dir / "model.safetensors"));
        auto index = nlohmann::json::parse(std::ifstream(dir / "model.safetensors.index.json"));
        QCOMPARE(index["metadata"]["total_size"].get<uint64_t>(), uint64_t(3 * 1024 + 16));
        QCOMPARE(index["weight_map"]["layer.1"].get<std::string>(), std::string("model-00002-of-00004.safetensors"));
        auto store = WeightStore::openFolder(dir);
        QCOMPARE(store->files().size(), size_t(4));
        for (int i = 0; i < 3; ++i)
            QVERIFY(bitEqual(store->load("layer." + std::to_string(i), at::kFloat), tensors[i]));
        QVERIFY(bitEqual(store->view("small"), tensors[3]));
        QCOMPARE(store->totalTensorBytes(), uint64_t(3 * 1024 + 16));
        // No temporary files are left behind.
        for (const auto &entry : fs::directory_iterator(dir))
            QVERIFY2(entry.path().filename().string()[0] != '.', entry.path().c_str());
    }

    void unfinishedWriterLeavesNothing()
    {
        const fs::path dir = freshDir("unfinished");
        {
            SafetensorsWriter writer(dir);
            writer.add("a", at::randn({64}));
        }
        QVERIFY(fs::is_empty(dir));
    }

    void finishReplacesExistingFileAtomically()
    {
        const fs::path dir = freshDir("replace");
        writeSafetensorsFile(dir / "model.safetensors", {{"old", at::zeros({2})}});
        const auto fresh = at::ones({3});
        writeSafetensorsFile(dir / "model.safetensors", {{"new", fresh}});
        auto file = SafetensorsFile::open(dir / "model.safetensors");
        QVERIFY(!file->contains("old"));
        QVERIFY(bitEqual(file->view("new"), fresh));
        // A writer given a duplicate name refuses it and leaves the old file alone.
        SafetensorsWriter writer(dir);
        writer.add("x", at::ones({1}));
        QVERIFY_THROWS_EXCEPTION(awq::Error, writer.add("x", at::ones({1})));
    }

    void writeErrorsNameTheFile()
    {
        const fs::path dir = freshDir("readonly");
        fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
        if (::access(dir.c_str(), W_OK) == 0) { // root ignores permissions
            fs::permissions(dir, fs::perms::owner_all);
            QSKIP("running as root: a read-only folder is still writable");
        }
        try {
            writeSafetensorsFile(dir / "model.safetensors", {{"a", at::ones({4})}});
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::Io);
            QVERIFY(std::string(e.what()).find(dir.string()) != std::string::npos);
        }
        fs::permissions(dir, fs::perms::owner_all);
    }

    void indexRejectsUnsafeOrMissingShards_data()
    {
        QTest::addColumn<QString>("entry");
        QTest::addColumn<QString>("expected");
        QTest::newRow("parent path") << "../x.safetensors" << "not a plain file name";
        QTest::newRow("absolute") << "/etc/passwd" << "not a plain file name";
        QTest::newRow("subfolder") << "sub/model.safetensors" << "not a plain file name";
        QTest::newRow("missing") << "model-00009-of-00009.safetensors" << "missing from the folder";
    }
    void indexRejectsUnsafeOrMissingShards()
    {
        QFETCH(QString, entry);
        QFETCH(QString, expected);
        const fs::path dir = freshDir("index");
        writeSafetensorsFile(dir / "shard.safetensors", {{"a", at::ones({4})}});
        nlohmann::json index = {{"weight_map", {{"a", entry.toStdString()}}}};
        std::ofstream(dir / "model.safetensors.index.json") << index.dump();
        try {
            WeightStore::openFolder(dir);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY2(std::string(e.what()).find(expected.toStdString()) != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("model.safetensors.index.json") != std::string::npos, e.what());
        }
    }

    void indexMustMatchShardContents()
    {
        const fs::path dir = freshDir("index-mismatch");
        writeSafetensorsFile(dir / "shard.safetensors", {{"a", at::ones({4})}});
        nlohmann::json index = {{"weight_map", {{"a", "shard.safetensors"}, {"b", "shard.safetensors"}}}};
        std::ofstream(dir / "model.safetensors.index.json") << index.dump();
        QVERIFY_THROWS_EXCEPTION(awq::Error, WeightStore::openFolder(dir));
        fs::remove(dir / "model.safetensors.index.json");
        fs::remove(dir / "shard.safetensors");
        try {
            WeightStore::openFolder(dir);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::NotFound);
        }
    }

    void malformedFiles_data()
    {
        QTest::addColumn<QString>("header");
        QTest::addColumn<int>("dataBytes");
        QTest::addColumn<qulonglong>("lengthOverride");
        QTest::addColumn<QString>("expected");
        const QString ok = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
        QTest::newRow("empty file") << "" << -5 << 0ull << "too short";
        QTest::newRow("shorter than 8 bytes") << "" << -1 << 0ull << "too short";
        QTest::newRow("header length past EOF") << ok << 8 << 4096ull << "does not fit";
        QTest::newRow("huge header length") << ok << 8 << (1ull << 63) << "implausibly large";
        QTest::newRow("not JSON") << "{not json" << 8 << 0ull << "not valid JSON";
        QTest::newRow("header not an object") << "[1,2,3]" << 8 << 0ull << "not a JSON object";
        QTest::newRow("unknown dtype") << R"({"w":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})" << 8 << 0ull
                                       << "unknown dtype 'F8'";
        QTest::newRow("missing data_offsets") << R"({"w":{"dtype":"F32","shape":[2]}})" << 8 << 0ull
                                              << "data_offsets";
        QTest::newRow("offsets past EOF") << R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})" << 8
                                          << 0ull << "exceed the data section";
        QTest::newRow("end before begin") << R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})" << 8
                                          << 0ull << "end before they begin";
        QTest::newRow("overlapping tensors")
            << R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"
            << 16 << 0ull << "overlap";
        QTest::newRow("wrong byte length") << R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})" << 8
                                           << 0ull << "needs 12";
        QTest::newRow("negative dimension") << R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})" << 8
                                            << 0ull << "non-negative";
        QTest::newRow("shape overflow")
            << R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})" << 8 << 0ull
            << "overflows";
        QTest::newRow("metadata not strings") << R"({"__metadata__":{"format":3}})" << 0 << 0ull << "not a string";
        QTest::newRow("negative offset") << R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})" << 8
                                         << 0ull << "non-negative integers";
        QTest::newRow("entry not an object") << R"({"w":"F32"})" << 8 << 0ull << "not an object";
    }
    void malformedFiles()
    {
        QFETCH(QString, header);
        QFETCH(int, dataBytes);
        QFETCH(qulonglong, lengthOverride);
        QFETCH(QString, expected);
        const fs::path dir = freshDir("malformed");
        const fs::path path = dir / "broken.safetensors";
        if (dataBytes < 0) {
            std::ofstream out(path, std::ios::binary);
            out << std::string(static_cast<size_t>(5 + dataBytes), '\0'); // 0..4 bytes: no room for a length
        } else {
            writeRaw(path, header.toStdString(), static_cast<size_t>(dataBytes), lengthOverride);
        }
        try {
            SafetensorsFile::open(path);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            const std::string msg = e.what();
            QVERIFY2(e.code() == ErrorCode::Format, msg.c_str());
            QVERIFY2(msg.find(path.string()) != std::string::npos, msg.c_str());
            QVERIFY2(msg.find(expected.toStdString()) != std::string::npos, msg.c_str());
        }
    }

    void errorsNameTheTensor()
    {
        const fs::path dir = freshDir("named");
        const fs::path path = dir / "model.safetensors";
        writeRaw(path, R"({"model.layers.0.mlp.up_proj.weight":{"dtype":"F16","shape":[4,4],"data_offsets":[0,8]}})",
                 8);
        try {
            SafetensorsFile::open(path);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(std::string(e.what()).find("model.layers.0.mlp.up_proj.weight") != std::string::npos);
        }
    }

    void trailingBytesAreTolerated()
    {
        // Bytes after the last tensor are allowed (other writers pad); they are never read.
        const fs::path dir = freshDir("trailing");
        const fs::path path = dir / "model.safetensors";
        writeRaw(path, R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 64);
        auto file = SafetensorsFile::open(path);
        QCOMPARE(file->view("w").numel(), int64_t(2));
        QVERIFY_THROWS_EXCEPTION(awq::Error, file->info("absent"));
    }
};

QTEST_APPLESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
