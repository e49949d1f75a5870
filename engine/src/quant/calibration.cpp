#include "awq/quant/calibration.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxCalibrationFileBytes = 1ull << 30; // 1 GiB

std::string readWholeFile(const fs::path &path)
{
    AWQ_CHECK(fs::exists(path), NotFound, path.string(), ": calibration file not found");
    AWQ_CHECK(fs::is_regular_file(path), InvalidArgument, path.string(), ": not a regular file");
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    AWQ_CHECK(!ec, Io, path.string(), ": cannot read its size (", ec.message(), ")");
    AWQ_CHECK(size <= kMaxCalibrationFileBytes, InvalidArgument, path.string(), ": ", size,
              " bytes is too large for calibration text (limit ", kMaxCalibrationFileBytes,
              " bytes; calibration uses a few hundred records)");
    std::ifstream in(path, std::ios::binary);
    AWQ_CHECK(in, Io, path.string(), ": cannot be opened for reading");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string stripped(const std::string &s)
{
    const char *ws = " \t\r\n\f\v";
    const size_t begin = s.find_first_not_of(ws);
    if (begin == std::string::npos)
        return {};
    return s.substr(begin, s.find_last_not_of(ws) - begin + 1);
}

std::vector<std::string> lines(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        out.push_back(line);
    return out;
}

// Paragraphs separated by blank lines when the text has any, otherwise one record per line.
std::vector<std::string> textRecords(const std::string &text)
{
    const std::vector<std::string> all = lines(text);
    const bool hasBlank = std::any_of(all.begin(), all.end(), [](const std::string &l) { return stripped(l).empty(); });
    std::vector<std::string> records;
    if (!hasBlank) {
        for (const auto &l : all)
            records.push_back(l);
        return records;
    }
    std::string current;
    for (const auto &l : all) {
        if (stripped(l).empty()) {
            if (!current.empty())
                records.push_back(current);
            current.clear();
        } else {
            current += current.empty() ? l : "\n" + l;
        }
    }
    if (!current.empty())
        records.push_back(current);
    return records;
}

std::vector<std::string> jsonlRecords(const fs::path &path, const std::string &field)
{
    const std::vector<std::string> all = lines(readWholeFile(path));
    std::vector<std::string> records;
    for (size_t i = 0; i < all.size(); ++i) {
        if (stripped(all[i]).empty())
            continue;
        const nlohmann::json j = parseJsonText(all[i], path.string() + ":" + std::to_string(i + 1));
        AWQ_CHECK(j.is_object(), Format, path.string(), ":", i + 1, ": expected a JSON object per line");
        AWQ_CHECK(j.contains(field), Format, path.string(), ":", i + 1, ": no field '", field,
                  "' (choose the text field with --calib-field)");
        AWQ_CHECK(j.at(field).is_string(), Format, path.string(), ":", i + 1, ": field '", field,
                  "' is not a string");
        records.push_back(j.at(field).get<std::string>());
    }
    return records;
}

std::vector<std::string> folderRecords(const fs::path &folder)
{
    AWQ_CHECK(fs::exists(folder), NotFound, folder.string(), ": calibration folder not found");
    AWQ_CHECK(fs::is_directory(folder), InvalidArgument, folder.string(), ": not a folder");
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(folder))
        if (entry.is_regular_file() && entry.path().extension() == ".txt")
            files.push_back(entry.path());
    AWQ_CHECK(!files.empty(), InvalidArgument, folder.string(), ": the folder holds no .txt files");
    std::sort(files.begin(), files.end());
    std::vector<std::string> records;
    for (const auto &f : files)
        records.push_back(readWholeFile(f));
    return records;
}

std::string describe(const CalibrationSource &source)
{
    switch (source.kind) {
    case CalibrationSource::Kind::Builtin: return "built-in calibration text " + source.path.string();
    case CalibrationSource::Kind::TextFile: return "text file " + source.path.string();
    case CalibrationSource::Kind::Jsonl:
        return "JSONL file " + source.path.string() + " (field '" + source.jsonField + "')";
    case CalibrationSource::Kind::Folder: return "folder of .txt files " + source.path.string();
    }
    return source.path.string();
}

} // namespace

std::vector<std::string> readCalibrationRecords(const CalibrationSource &source)
{
    AWQ_CHECK(!source.path.empty(), InvalidArgument, "no calibration source given");
    switch (source.kind) {
    case CalibrationSource::Kind::Builtin:
    case CalibrationSource::Kind::TextFile: return textRecords(readWholeFile(source.path));
    case CalibrationSource::Kind::Jsonl: return jsonlRecords(source.path, source.jsonField);
    case CalibrationSource::Kind::Folder: return folderRecords(source.path);
    }
    fail(ErrorCode::Internal, "unknown calibration source kind");
}

std::string tokenDigest(const at::Tensor &tokens)
{
    auto flat = tokens.to(at::kLong).contiguous().reshape({-1});
    const auto *bytes = reinterpret_cast<const unsigned char *>(flat.data_ptr<int64_t>());
    uint64_t hash = 14695981039346656037ull; // FNV-1a 64-bit offset basis
    for (size_t i = 0; i < static_cast<size_t>(flat.numel()) * sizeof(int64_t); ++i) {
        hash ^= bytes[i];
        hash *= 1099511628211ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    return std::string("fnv1a64:") + hex;
}

CalibrationData buildCalibration(const CalibrationOptions &options, const Tokenizer &tokenizer)
{
    AWQ_CHECK(options.nSamples > 0, InvalidArgument, "n_samples must be positive, got ", options.nSamples);
    AWQ_CHECK(options.seqLen > 0, InvalidArgument, "seq_len must be positive, got ", options.seqLen);
    const std::vector<std::string> records = readCalibrationRecords(options.source);
    CalibrationData data;
    data.sourceDescription = describe(options.source);
    std::vector<int64_t> stream;
    for (const auto &record : records) {
        if (data.recordsUsed >= options.nSamples)
            break;
        ++data.recordsRead;
        const std::string text = stripped(record);
        if (text.empty()) {
            ++data.recordsSkippedEmpty;
            continue;
        }
        const std::vector<int32_t> ids = tokenizer.encode(text);
        if (static_cast<int64_t>(ids.size()) > options.seqLen) {
            ++data.recordsSkippedLong;
            continue;
        }
        stream.insert(stream.end(), ids.begin(), ids.end());
        ++data.recordsUsed;
    }
    const int64_t total = static_cast<int64_t>(stream.size());
    const int64_t blocks = total / options.seqLen;
    AWQ_CHECK(blocks > 0, InvalidArgument, data.sourceDescription, ": yields no calibration block of ",
              options.seqLen, " tokens (", data.recordsRead, " records read, ", data.recordsUsed, " used with ",
              total, " tokens, ", data.recordsSkippedLong, " skipped as longer than ", options.seqLen, " tokens, ",
              data.recordsSkippedEmpty, " empty); use more or longer records, or a smaller --seq-len");
    data.tokensUsed = blocks * options.seqLen;
    data.tokensDropped = total - data.tokensUsed;
    data.blocks = at::from_blob(stream.data(), {data.tokensUsed}, at::kLong).clone().reshape({blocks, options.seqLen});
    data.digest = tokenDigest(data.blocks);
    return data;
}

} // namespace awq
