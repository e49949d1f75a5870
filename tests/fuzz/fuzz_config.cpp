// libFuzzer: config.json text through the same parse as ModelConfig::load, then the
// derived sizes (which must not overflow for any accepted config) and the HF form.
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = reinterpret_cast<const char *>(data);
    try {
        const nlohmann::json j = awq::parseJsonText(std::string_view(text, size), "config.json");
        const awq::ModelConfig c = awq::ModelConfig::fromJson(j, "config.json");
        if (c.parameterCount() <= 0 || c.kvDim() <= 0)
            std::abort();
        // What toJson writes must read back.
        (void)awq::ModelConfig::fromJson(c.toJson(), "round trip").parameterCount();
    } catch (const awq::Error &) {
    }
    return 0;
}
