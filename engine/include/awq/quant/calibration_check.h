#pragma once
// What a calibration choice yields for a model, checked before a run starts (the wizard's
// Calibration page): blocks, tokens, records used and skipped, and a preview of the first
// records. Torch-free, so that the UI can call it from its worker.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "awq/quant/quant_options.h"

namespace awq {

struct CalibrationCheck {
    int64_t blocks = 0;
    int64_t tokens = 0;
    int64_t recordsUsed = 0;
    int64_t recordsSkipped = 0; // longer than a block, or empty
    std::string source;         // e.g. "notes.jsonl (field 'text')"
    std::vector<std::string> preview; // the first records, whitespace collapsed, shortened to previewChars
};

// Tokenizes the calibration data with the model folder's tokenizer as a run would. Throws
// Error naming the file and the problem (a missing file, a JSONL field that is absent, too
// little text for one block).
CalibrationCheck checkCalibration(const std::filesystem::path &modelFolder, const CalibrationOptions &options,
                                  size_t previewRecords = 3, size_t previewChars = 300);

} // namespace awq
