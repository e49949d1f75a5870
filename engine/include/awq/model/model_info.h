#pragma once
// Facts about a model folder, gathered without reading the weights (headers only).
// Torch-free so that the UI can include it. inspectModel() validates what a load
// would check and reports every problem it finds.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "awq/core/result.h"
#include "awq/model/config.h"

namespace awq {

struct ModelInfo {
    std::filesystem::path folder;
    ModelConfig config;
    int64_t parameterCount = 0;       // from config
    uint64_t weightBytes = 0;         // sum of tensor byte sizes in the safetensors files
    uint64_t sizeOnDisk = 0;          // all regular files in the folder
    int shardCount = 0;
    int64_t tensorCount = 0;
    std::map<std::string, int64_t> tensorsPerDtype; // "F16" -> count
    bool hasTokenizerModel = false;   // tokenizer.model
    bool hasTokenizerJson = false;    // tokenizer.json
    bool hasChatTemplate = false;
    std::vector<std::string> problems; // empty when the folder is loadable

    bool quantized() const { return config.quantization.present; }
    bool loadable() const { return problems.empty(); }
    // e.g. "AWQ 4-bit, group 128, zero point, GEMM" or "full precision (F16)"
    std::string precisionSummary() const;
};

// Throws only for a folder that cannot be inspected at all (missing, no config.json);
// other problems are listed in ModelInfo::problems.
ModelInfo inspectModel(const std::filesystem::path &folder);

inline Result<ModelInfo> tryInspectModel(const std::filesystem::path &folder)
{
    return guarded([&] { return inspectModel(folder); });
}

std::string formatBytes(uint64_t bytes); // "1.23 GiB"
std::string formatCount(int64_t n);      // "1.10 B", "6.3 M"

} // namespace awq
