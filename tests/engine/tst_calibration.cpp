// Calibration data as AutoAWQ builds it (docs/awq-format.md §1.1): the record sources (text, JSONL,
// a folder), the block building with a real tokenizer, and the calibration digest.

#include <QtTest>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/quant/calibration.h"
#include "awq/runtime/threads.h"
#include "awq/tokenizer/tokenizer.h"
#include "fixture_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace awq;
using namespace awq::test;

namespace {







std::vector<std::string> corpusLines()
{
    std::vector<std::string> out;
    std::istringstream in(awq::test::fixtureCorpus());
    std::string line;
    while (std::getline(in, line)) {
        const size_t begin = line.find_first_not_of(" \t\r");
        if (begin == std::string::npos)
            continue;
        out.push_back(line.substr(begin, line.find_last_not_of(" \t\r") - begin + 1));
    }
    return out;
}

uint64_t fnv1a64(const std::vector<int64_t> &values)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int64_t v : values) {
        for (int b = 0; b < 8; ++b) { // little-endian bytes of the value
            h ^= static_cast<uint64_t>(v) >> (8 * b) & 0xFFu;
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

std::string hex16(uint64_t h)
{
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

} // namespace

class TestCalibration : public QObject
{
    Q_OBJECT
    std::unique_ptr<Tokenizer> m_tok;
    fs::path m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        configureThreads();
        m_dir = awq::test::makeTempDir("calibration");
    }

    // ---------------------------------------------------------------- calibration

    void textRecords()
    {
        const auto paragraphs = m_dir / "paragraphs.txt";
        writeFile(paragraphs, "First line.\n  second line\n\n\nPara two\n   \nPara three\nends here\n");
        CalibrationSource source;
        source.kind = CalibrationSource::Kind::TextFile;
        source.path = paragraphs;
        const std::vector<std::string> expected = {"First line.\n  second line", "Para two", "Para three\nends here"};
        QCOMPARE(readCalibrationRecords(source), expected);
        source.kind = CalibrationSource::Kind::Builtin; // same reader
        QCOMPARE(readCalibrationRecords(source), expected);

        const auto lines = m_dir / "lines.txt";
        writeFile(lines, "one\ntwo words\nthree\n");
        source.kind = CalibrationSource::Kind::TextFile;
        source.path = lines;
        QCOMPARE(readCalibrationRecords(source), (std::vector<std::string>{"one", "two words", "three"}));

        source.path = m_dir / "absent.txt";
        const auto missing = catchError([&] { readCalibrationRecords(source); });
        QVERIFY(missing.thrown);
        QCOMPARE(missing.code, ErrorCode::NotFound);
        QVERIFY(contains(missing.message, source.path.string()));

        source.path.clear();
        const auto none = catchError([&] { readCalibrationRecords(source); });
        QVERIFY(none.thrown);
        QCOMPARE(none.code, ErrorCode::InvalidArgument);
    }

    void jsonlRecords()
    {
        const auto path = m_dir / "records.jsonl";
        writeFile(path, "{\"text\": \"alpha\", \"body\": \"one\"}\n"
                        "\n"
                        "{\"text\": \"beta \\\"quoted\\\"\\nline\", \"body\": \"two\", \"n\": 3}\n");
        CalibrationSource source;
        source.kind = CalibrationSource::Kind::Jsonl;
        source.path = path;
        QCOMPARE(readCalibrationRecords(source), (std::vector<std::string>{"alpha", "beta \"quoted\"\nline"}));
        source.jsonField = "body";
        QCOMPARE(readCalibrationRecords(source), (std::vector<std::string>{"one", "two"}));

        // A line that is not JSON: the file and the line number.
        const auto broken = m_dir / "broken.jsonl";
        writeFile(broken, "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{not json\n{\"text\": \"d\"}\n");
        source.path = broken;
        source.jsonField = "text";
        auto t = catchError([&] { readCalibrationRecords(source); });
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Format);
        QVERIFY2(contains(t.message, broken.string() + ":3"), t.message.c_str());

        // A missing field names the field.
        source.path = path;
        source.jsonField = "content";
        t = catchError([&] { readCalibrationRecords(source); });
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Format);
        QVERIFY2(contains(t.message, "'content'"), t.message.c_str());
        QVERIFY2(contains(t.message, path.string() + ":1"), t.message.c_str());

        // A field that is not a string, and a line that is not an object.
        source.jsonField = "n";
        writeFile(broken, "{\"n\": \"x\"}\n{\"n\": 3}\n");
        source.path = broken;
        t = catchError([&] { readCalibrationRecords(source); });
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Format);
        QVERIFY2(contains(t.message, broken.string() + ":2"), t.message.c_str());
        writeFile(broken, "[\"text\"]\n");
        source.jsonField = "text";
        t = catchError([&] { readCalibrationRecords(source); });
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Format);

        source.path = m_dir / "absent.jsonl";
        t = catchError([&] { readCalibrationRecords(source); });
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::NotFound);
    }

    void folderRecords()
    {
        const auto folder = m_dir / "calib-folder";
        fs::create_directories(folder / "sub.txt");
        writeFile(folder / "b.txt", "second file\n");
        writeFile(folder / "a.txt", "first file\n\nwith a paragraph\n");
        writeFile(folder / "c.txt", "third");
        writeFile(folder / "notes.md", "ignored");
        writeFile(folder / "d.txt.bak", "ignored too");
        CalibrationSource source;
        source.kind = CalibrationSource::Kind::Folder;
        source.path = folder;
        QCOMPARE(readCalibrationRecords(source),
                 (std::vector<std::string>{"first file\n\nwith a paragraph\n", "second file\n", "third"}));

        source.path = m_dir / "no-such-folder";
        auto t = catchError([&] { readCalibrationRecords(source); });
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::NotFound);

        const auto empty = m_dir / "empty-folder";
        fs::create_directories(empty);
        writeFile(empty / "x.json", "{}");
        source.path = empty;
        t = catchError([&] { readCalibrationRecords(source); });
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::InvalidArgument);
    }

    void buildCalibrationBlocks()
    {
        m_tok = Tokenizer::fromSentencePieceFile(awq::test::fixtureTokenizerModel());
        const int64_t seqLen = 256;
        const auto lines = corpusLines();
        QVERIFY(lines.size() > 40);
        std::string longRecord;
        for (int i = 0; i < 12; ++i)
            longRecord += lines[i] + " ";
        longRecord.pop_back();
        QVERIFY(static_cast<int64_t>(m_tok->encode(longRecord).size()) > seqLen);
        longRecord += " ";

        // Records: 20 corpus lines with a long one at index 2 and a blank one at index 4.
        std::vector<std::string> records, texts; // texts: the stripped record, "" to skip
        for (int i = 0; i < 20; ++i) {
            records.push_back("  " + lines[20 + i] + " \t");
            texts.push_back(lines[20 + i]);
        }
        records.insert(records.begin() + 2, longRecord);
        texts.insert(texts.begin() + 2, "");
        records.insert(records.begin() + 4, "   ");
        texts.insert(texts.begin() + 4, "");
        std::string jsonl;
        for (const auto &r : records)
            jsonl += nlohmann::json{{"text", r}}.dump() + "\n";
        const auto path = m_dir / "build.jsonl";
        writeFile(path, jsonl);

        CalibrationOptions options;
        options.source.kind = CalibrationSource::Kind::Jsonl;
        options.source.path = path;
        options.nSamples = 10;
        options.seqLen = seqLen;
        const auto data = buildCalibration(options, *m_tok);

        // Expected: the first 10 accepted records (stripped, encoded with BOS), concatenated.
        std::vector<int64_t> stream;
        int accepted = 0;
        for (const auto &text : texts) {
            if (accepted == 10)
                break;
            if (text.empty())
                continue;
            const auto ids = m_tok->encode(text);
            QVERIFY(static_cast<int64_t>(ids.size()) <= seqLen);
            QCOMPARE(ids.front(), m_tok->bosId());
            stream.insert(stream.end(), ids.begin(), ids.end());
            ++accepted;
        }
        const int64_t total = static_cast<int64_t>(stream.size());
        QCOMPARE(data.recordsRead, int64_t(12));
        QCOMPARE(data.recordsUsed, int64_t(10));
        QCOMPARE(data.recordsSkippedLong, int64_t(1));
        QCOMPARE(data.recordsSkippedEmpty, int64_t(1));
        QCOMPARE(data.blocks.scalar_type(), at::kLong);
        QCOMPARE(shape(data.blocks), (Shape{total / seqLen, seqLen}));
        QCOMPARE(data.numBlocks(), total / seqLen);
        QVERIFY(data.numBlocks() >= 2);
        QCOMPARE(data.tokensUsed, (total / seqLen) * seqLen);
        QCOMPARE(data.tokensDropped, total % seqLen);
        stream.resize(data.tokensUsed);
        QVERIFY(at::equal(data.blocks, fromVector(stream, at::kLong, {total / seqLen, seqLen})));
        QCOMPARE(data.blocks[0][0].item<int64_t>(), int64_t(m_tok->bosId()));
        QCOMPARE(data.digest, tokenDigest(data.blocks));
        QCOMPARE(data.digest, "fnv1a64:" + hex16(fnv1a64(stream)));
        QVERIFY(contains(data.sourceDescription, path.string()));

        // nSamples limits the accepted records.
        options.nSamples = 3;
        const auto three = buildCalibration(options, *m_tok);
        QCOMPARE(three.recordsUsed, int64_t(3));
        QCOMPARE(three.recordsRead, int64_t(4)); // the long one was looked at and skipped
        QCOMPARE(three.recordsSkippedLong, int64_t(1));

        // A record of exactly seqLen tokens is kept; one token more is skipped.
        const auto one = m_tok->encode(lines[30]);
        const auto exact = m_dir / "exact.txt";
        writeFile(exact, lines[30] + "\n" + lines[30] + "\n" + lines[30] + "\n");
        CalibrationOptions ex;
        ex.source.kind = CalibrationSource::Kind::TextFile;
        ex.source.path = exact;
        ex.seqLen = static_cast<int64_t>(one.size());
        const auto exactData = buildCalibration(ex, *m_tok);
        QCOMPARE(exactData.numBlocks(), int64_t(3));
        QCOMPARE(exactData.tokensDropped, int64_t(0));
        QCOMPARE(exactData.recordsSkippedLong, int64_t(0));
        for (int64_t b = 0; b < 3; ++b)
            QVERIFY(at::equal(exactData.blocks[b], fromVector(one, at::kInt, {ex.seqLen}).to(at::kLong)));

        ex.seqLen -= 1;
        const auto t = catchError([&] { buildCalibration(ex, *m_tok); });
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::InvalidArgument);
        QVERIFY2(contains(t.message, exact.string()), t.message.c_str());
        QVERIFY2(contains(t.message, "3 skipped"), t.message.c_str());

        ex.seqLen = 0;
        QCOMPARE(catchError([&] { buildCalibration(ex, *m_tok); }).code, ErrorCode::InvalidArgument);
        ex.seqLen = 8;
        ex.nSamples = 0;
        QCOMPARE(catchError([&] { buildCalibration(ex, *m_tok); }).code, ErrorCode::InvalidArgument);
    }

    void tokenDigestIsStable()
    {
        const auto a = at::arange(0, 300, at::kLong).reshape({3, 100});
        const std::string d = tokenDigest(a);
        QVERIFY(d.rfind("fnv1a64:", 0) == 0);
        QCOMPARE(d.size(), size_t(8 + 16));
        QCOMPARE(tokenDigest(a.clone()), d);
        QCOMPARE(tokenDigest(a.to(at::kInt)), d); // values, not the storage type
        std::vector<int64_t> values(300);
        for (int i = 0; i < 300; ++i)
            values[i] = i;
        QCOMPARE(d, "fnv1a64:" + hex16(fnv1a64(values)));
        auto b = a.clone();
        b[2][57] = 1000;
        QVERIFY(tokenDigest(b) != d);
        // The empty stream is the FNV offset basis.
        QCOMPARE(tokenDigest(at::empty({0}, at::kLong)), std::string("fnv1a64:cbf29ce484222325"));
    }
};

QTEST_APPLESS_MAIN(TestCalibration)
#include "tst_calibration.moc"
