#include "awq/quant/calibration_check.h"

#include "awq/quant/calibration.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq {

namespace {

// Runs of whitespace become one space, leading and trailing whitespace goes.
std::string collapsed(const std::string &text)
{
    std::string out;
    bool space = false;
    for (const char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = !out.empty();
            continue;
        }
        if (space)
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

// At most `chars` bytes, cut at a character boundary, with an ellipsis when shortened.
std::string shortened(const std::string &text, size_t chars)
{
    if (text.size() <= chars)
        return text;
    size_t end = chars;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return text.substr(0, end) + "\xE2\x80\xA6"; // …
}

} // namespace

CalibrationCheck checkCalibration(const std::filesystem::path &modelFolder, const CalibrationOptions &options,
                                  size_t previewRecords, size_t previewChars)
{
    const std::unique_ptr<Tokenizer> tokenizer = Tokenizer::load(modelFolder);
    const CalibrationData data = buildCalibration(options, *tokenizer);
    CalibrationCheck check;
    check.blocks = data.numBlocks();
    check.tokens = data.tokensUsed;
    check.recordsUsed = data.recordsUsed;
    check.recordsSkipped = data.recordsSkippedLong + data.recordsSkippedEmpty;
    check.source = data.sourceDescription;
    for (const std::string &record : readCalibrationRecords(options.source)) {
        if (check.preview.size() == previewRecords)
            break;
        const std::string text = collapsed(record);
        if (!text.empty())
            check.preview.push_back(shortened(text, previewChars));
    }
    return check;
}

} // namespace awq
