// libFuzzer: calibration files read as JSONL (field "text") and as plain text.
#include "awq/core/error.h"
#include "awq/quant/calibration.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const FuzzInputFile input(data, size, "fuzz.jsonl");
    awq::CalibrationSource source;
    source.path = input.path();
    source.jsonField = "text";
    for (auto kind : {awq::CalibrationSource::Kind::Jsonl, awq::CalibrationSource::Kind::TextFile}) {
        source.kind = kind;
        try {
            (void)awq::readCalibrationRecords(source).size();
        } catch (const awq::Error &) {
        }
    }
    return 0;
}
