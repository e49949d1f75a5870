#pragma once
// Readers for config.json fields: every one names the file and the key when the value is
// wrong. Shared by ModelConfig::fromJson and the architecture descriptions (engine/src/arch).

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/model/config.h"

namespace awq {

using nlohmann::json;

inline constexpr int64_t kMaxConfigDim = int64_t(1) << 20;     // 1M: larger than any real hidden size
inline constexpr int64_t kMaxConfigPositions = int64_t(1) << 24;

class ConfigFields
{
public:
    ConfigFields(const json &object, std::string source) : m_json(object), m_source(std::move(source)) {}

    const json &raw() const { return m_json; }
    const std::string &source() const { return m_source; }
    // The key is present and explicitly null (HF configs turn features off that way).
    bool isNull(const char *key) const { return m_json.contains(key) && m_json.at(key).is_null(); }

    bool has(const char *key) const { return m_json.contains(key) && !m_json.at(key).is_null(); }

    int64_t integer(const char *key, int64_t min, int64_t max) const
    {
        AWQ_CHECK(has(key), Format, m_source, ": required field '", key, "' is missing");
        return integerOr(key, 0, min, max);
    }
    int64_t integerOr(const char *key, int64_t fallback, int64_t min, int64_t max) const
    {
        if (!has(key))
            return fallback;
        const json &v = m_json.at(key);
        // 4096.0 is accepted as 4096; the range is checked before converting (a double
        // beyond int64 must not reach static_cast).
        const bool whole = v.is_number_float() && std::isfinite(v.get<double>())
                           && v.get<double>() == std::trunc(v.get<double>());
        AWQ_CHECK(v.is_number_integer() || whole, Format, m_source, ": field '", key, "' must be an integer, got ",
                  jsonPreview(v));
        AWQ_CHECK(!(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(max))
                      && !(whole && (v.get<double>() < double(min) || v.get<double>() > double(max))),
                  Format, m_source, ": field '", key, "' = ", jsonPreview(v), " is out of range [", min, ", ", max, "]");
        const int64_t value = v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(v.get<double>());
        AWQ_CHECK(value >= min && value <= max, Format, m_source, ": field '", key, "' = ", value,
                  " is out of range [", min, ", ", max, "]");
        return value;
    }
    double numberOr(const char *key, double fallback, double min, double max) const
    {
        if (!has(key))
            return fallback;
        const json &v = m_json.at(key);
        AWQ_CHECK(v.is_number(), Format, m_source, ": field '", key, "' must be a number, got ", jsonPreview(v));
        const double value = v.get<double>();
        AWQ_CHECK(value >= min && value <= max, Format, m_source, ": field '", key, "' = ", value,
                  " is out of range [", min, ", ", max, "]");
        return value;
    }
    bool boolOr(const char *key, bool fallback) const
    {
        if (!has(key))
            return fallback;
        const json &v = m_json.at(key);
        AWQ_CHECK(v.is_boolean(), Format, m_source, ": field '", key, "' must be true or false, got ", jsonPreview(v));
        return v.get<bool>();
    }
    std::string stringOr(const char *key, const std::string &fallback) const
    {
        if (!has(key))
            return fallback;
        const json &v = m_json.at(key);
        AWQ_CHECK(v.is_string(), Format, m_source, ": field '", key, "' must be a string, got ", jsonPreview(v));
        return v.get<std::string>();
    }
    // An integer or a list of integers (eos_token_id is either).
    std::vector<int64_t> idListOr(const char *key) const
    {
        std::vector<int64_t> ids;
        if (!has(key))
            return ids;
        const json &v = m_json.at(key);
        auto take = [&](const json &item) {
            AWQ_CHECK(item.is_number_integer() && item.get<int64_t>() >= 0, Format, m_source, ": field '", key,
                      "' must hold non-negative integer token ids, got ", jsonPreview(v));
            ids.push_back(item.get<int64_t>());
        };
        if (v.is_array())
            for (const auto &item : v)
                take(item);
        else
            take(v);
        return ids;
    }

private:
    const json &m_json;
    std::string m_source;
};

// "silu"/"swish" or "gelu_pytorch_tanh"; anything else is Error(UnsupportedModel) naming
// `source` and `key`.
Activation parseActivation(const std::string &name, const std::string &source, const char *key);

} // namespace awq
