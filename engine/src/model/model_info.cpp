#include "awq/model/model_info.h"

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/io/safetensors.h"
#include "awq/model/consistency.h"
#include "awq/model/model_folder.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq {

namespace fs = std::filesystem;

std::string formatBytes(uint64_t bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.2f %s", value, units[unit]);
    return buf;
}

std::string formatCount(int64_t n)
{
    char buf[32];
    if (n >= 1000000000)
        std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
    else if (n >= 1000000)
        std::snprintf(buf, sizeof buf, "%.1f M", n / 1e6);
    else if (n >= 1000)
        std::snprintf(buf, sizeof buf, "%.1f K", n / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
    return buf;
}

std::string ModelInfo::precisionSummary() const
{
    const QuantizationConfig &q = config.quantization;
    if (q.present) {
        std::string s = q.quantMethod == "awq" ? "AWQ" : q.quantMethod;
        s += " " + std::to_string(q.bits) + "-bit, group " + std::to_string(q.groupSize);
        s += q.zeroPoint ? ", zero point" : ", symmetric";
        std::string version = q.version;
        for (auto &c : version)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return s + ", " + version;
    }
    std::string dtypes;
    for (const auto &[dtype, count] : tensorsPerDtype)
        dtypes += (dtypes.empty() ? "" : "/") + dtype;
    return "full precision (" + (dtypes.empty() ? config.torchDtype : dtypes) + ")";
}

namespace {

} // namespace

ModelInfo inspectModel(const fs::path &folder)
{
    AWQ_CHECK(fs::exists(folder), NotFound, folder.string(), ": no such folder");
    AWQ_CHECK(fs::is_directory(folder), InvalidArgument, folder.string(), ": not a folder (pick the model's folder)");
    ModelInfo info;
    info.folder = folder;
    info.config = ModelConfig::load(folder);
    info.parameterCount = info.config.parameterCount();

    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(folder, ec))
        if (entry.is_regular_file(ec))
            info.sizeOnDisk += entry.file_size(ec);
    info.hasTokenizerModel = fs::is_regular_file(folder / "tokenizer.model");
    info.hasTokenizerJson = fs::is_regular_file(folder / "tokenizer.json");
    if (!info.hasTokenizerModel && !info.hasTokenizerJson)
        info.problems.push_back("tokenizer.model is missing, and so is tokenizer.json");
    const fs::path tokenizerConfig = folder / "tokenizer_config.json";
    bool tokenizerConfigReadable = true;
    if (fs::is_regular_file(tokenizerConfig)) {
        try {
            const auto j = readJsonFile(tokenizerConfig);
            info.hasChatTemplate = j.is_object() && j.contains("chat_template") && !j["chat_template"].is_null();
        } catch (const Error &e) {
            info.problems.push_back(e.what());
            tokenizerConfigReadable = false;
        }
    }
    // The tokenizer is loaded as a run would load it (its file and the special tokens of
    // tokenizer_config.json), and its ids must fit the embedding table.
    if ((info.hasTokenizerModel || info.hasTokenizerJson) && tokenizerConfigReadable) {
        try {
            const auto tokenizer = Tokenizer::load(folder);
            for (std::string &problem : tokenizerProblems(info.config, *tokenizer, folder))
                info.problems.push_back(std::move(problem));
        } catch (const Error &e) {
            info.problems.push_back(e.what());
        }
    }

    try {
        auto store = WeightStore::openFolder(folder);
        matchTensorLayout(info.config, *store);
        info.shardCount = static_cast<int>(store->files().size());
        for (const auto &name : store->names()) {
            ++info.tensorCount;
            const TensorInfo &t = store->info(name);
            info.weightBytes += t.byteSize;
            ++info.tensorsPerDtype[safetensorsName(t.dtype)];
        }
        for (std::string &problem : tensorProblems(info.config, *store))
            info.problems.push_back(std::move(problem));
        for (std::string &problem : quantizationProblems(info.config, *store, (folder / "config.json").string()))
            info.problems.push_back(std::move(problem));
    } catch (const Error &e) {
        info.problems.push_back(e.what());
    }
    return info;
}

} // namespace awq
