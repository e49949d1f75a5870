#include "awq/chat/generation_defaults.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"

namespace awq::chat {

namespace {

std::string number(double v)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", v);
    return buffer;
}

} // namespace

std::string GenerationDefaults::describe() const
{
    std::string text;
    const auto add = [&](const std::string &part) { text += (text.empty() ? "" : ", ") + part; };
    if (!doSample)
        add("greedy (do_sample false)");
    else if (temperature)
        add("temperature " + number(*temperature));
    if (topP)
        add("top-p " + number(*topP));
    if (topK)
        add("top-k " + std::to_string(*topK));
    if (minP)
        add("min-p " + number(*minP));
    if (repetitionPenalty)
        add("repetition penalty " + number(*repetitionPenalty));
    if (maxNewTokens)
        add("max new tokens " + std::to_string(*maxNewTokens));
    return text;
}

std::optional<GenerationDefaults> readGenerationDefaults(const std::filesystem::path &folder)
{
    const std::filesystem::path file = folder / "generation_config.json";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        return std::nullopt;
    const nlohmann::json json = readJsonFile(file);
    const std::string name = file.string();
    AWQ_CHECK(json.is_object(), Format, name, ": expected a JSON object");
    GenerationDefaults d;
    // A value of null means "not set", as transformers writes it.
    const auto real = [&](const char *key, double min, double max, std::optional<double> &out) {
        const auto it = json.find(key);
        if (it == json.end() || it->is_null())
            return;
        AWQ_CHECK(it->is_number(), Format, name, ": field '", key, "' must be a number");
        const double v = it->get<double>();
        AWQ_CHECK(std::isfinite(v) && v >= min && v <= max, Format, name, ": field '", key, "' = ", v,
                  " is out of range [", min, ", ", max, "]");
        out = v;
    };
    const auto integer = [&](const char *key, int64_t min, std::optional<int64_t> &out) {
        const auto it = json.find(key);
        if (it == json.end() || it->is_null())
            return;
        AWQ_CHECK(it->is_number_integer(), Format, name, ": field '", key, "' must be an integer");
        const int64_t v = it->get<int64_t>();
        AWQ_CHECK(v >= min, Format, name, ": field '", key, "' = ", v, " must be at least ", min);
        out = v;
    };
    real("temperature", 0.0, 100.0, d.temperature);
    real("top_p", 0.0, 1.0, d.topP);
    real("min_p", 0.0, 1.0, d.minP);
    real("repetition_penalty", 0.0, 100.0, d.repetitionPenalty);
    integer("top_k", 0, d.topK);
    integer("max_new_tokens", 1, d.maxNewTokens);
    if (const auto it = json.find("do_sample"); it != json.end() && !it->is_null()) {
        AWQ_CHECK(it->is_boolean(), Format, name, ": field 'do_sample' must be true or false");
        d.doSample = it->get<bool>();
    }
    if (d.topP && *d.topP == 0.0)
        d.topP.reset(); // 0 is not a nucleus; treated as unset
    if (d.repetitionPenalty && *d.repetitionPenalty == 0.0)
        d.repetitionPenalty.reset();
    return d;
}

ChatSettings applyGenerationDefaults(ChatSettings s, const GenerationDefaults &d)
{
    if (!d.doSample)
        s.temperature = 0.0;
    else if (d.temperature)
        s.temperature = *d.temperature;
    if (d.topP)
        s.topP = *d.topP;
    if (d.topK)
        s.topK = *d.topK;
    if (d.minP)
        s.minP = *d.minP;
    if (d.repetitionPenalty)
        s.repetitionPenalty = *d.repetitionPenalty;
    if (d.maxNewTokens)
        s.maxNewTokens = *d.maxNewTokens;
    return s;
}

} // namespace awq::chat
