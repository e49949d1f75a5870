#include "hf_pipeline.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"

namespace awq {

using nlohmann::json;

namespace hf {

std::string typeOf(const json &j, const std::string &where, const char *what)
{
    AWQ_CHECK(j.is_object() && j.contains("type") && j["type"].is_string(), Format, where, ": every ", what,
              " must be an object with a 'type'");
    return j["type"].get<std::string>();
}

std::string stringField(const json &j, const char *key, const std::string &where, const char *what,
                        const std::string &fallback)
{
    if (!j.contains(key) || j[key].is_null())
        return fallback;
    AWQ_CHECK(j[key].is_string(), Format, where, ": ", what, ".", key, " must be a string");
    return j[key].get<std::string>();
}

bool boolField(const json &j, const char *key, bool fallback, const std::string &where, const char *what)
{
    if (!j.contains(key) || j[key].is_null())
        return fallback;
    AWQ_CHECK(j[key].is_boolean(), Format, where, ": ", what, ".", key, " must be true or false");
    return j[key].get<bool>();
}

const json &listField(const json &j, const char *key, const std::string &where, const char *what)
{
    AWQ_CHECK(j.contains(key) && j[key].is_array(), Format, where, ": a ", what, " Sequence needs a '", key, "' list");
    return j[key];
}

std::shared_ptr<const HfRegex> patternOf(const json &j, const std::string &where, const char *what)
{
    AWQ_CHECK(j.contains("pattern") && j["pattern"].is_object() && j["pattern"].size() == 1, Format, where, ": ",
              what, ".pattern must be {\"String\": ...} or {\"Regex\": ...}");
    const auto entry = j["pattern"].begin();
    const std::string kind = entry.key();
    AWQ_CHECK((kind == "String" || kind == "Regex") && entry.value().is_string(), Format, where, ": ", what,
              ".pattern must be {\"String\": ...} or {\"Regex\": ...}");
    const std::string pattern = entry.value().get<std::string>();
    AWQ_CHECK(!pattern.empty(), Format, where, ": ", what, " has an empty pattern");
    return std::make_shared<const HfRegex>(kind == "Regex" ? HfRegex::compile(pattern, where)
                                                           : HfRegex::literal(pattern, where));
}

PrependScheme prependSchemeOf(const json &j, const std::string &where)
{
    if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null()) {
        const std::string scheme = stringField(j, "prepend_scheme", where, "Metaspace");
        if (scheme == "always")
            return PrependScheme::Always;
        if (scheme == "first")
            return PrependScheme::First;
        AWQ_CHECK(scheme == "never", Format, where, ": Metaspace.prepend_scheme '", scheme,
                  "' is not always, first or never");
        return PrependScheme::Never;
    }
    return boolField(j, "add_prefix_space", true, where, "Metaspace") ? PrependScheme::Always : PrependScheme::Never;
}

void replaceAll(std::string &text, const std::string &from, const std::string &to)
{
    if (from.empty())
        return;
    std::string out;
    size_t pos = 0;
    for (size_t hit; (hit = text.find(from, pos)) != std::string::npos; pos = hit + from.size())
        out.append(text, pos, hit - pos).append(to);
    out.append(text, pos, std::string::npos);
    text = std::move(out);
}

std::string replaceMatches(const HfRegex &pattern, const std::string &text, const std::string &content)
{
    std::string out;
    out.reserve(text.size());
    for (const MatchSpan &span : pattern.findMatches(text)) {
        if (span.isMatch)
            out += content;
        else
            out.append(text, span.begin, span.end - span.begin);
    }
    return out;
}

} // namespace hf

HfPipeline::HfPipeline(const json &root, const std::string &where)
{
    if (root.contains("normalizer") && !root["normalizer"].is_null())
        parseNormalizer(root["normalizer"], where, m_normalizers);
    if (root.contains("pre_tokenizer") && !root["pre_tokenizer"].is_null())
        parsePreTokenizer(root["pre_tokenizer"], where, m_preTokenizers);
    if (root.contains("decoder") && !root["decoder"].is_null())
        parseDecoder(root["decoder"], where, m_decoders);
}

std::string HfPipeline::normalize(std::string text) const
{
    for (const NormalizerStep &step : m_normalizers)
        text = applyNormalizer(step, std::move(text));
    return text;
}

std::vector<std::string> HfPipeline::preTokenize(const std::string &text, bool atStart) const
{
    std::vector<std::string> pieces{text};
    for (const PreTokenizerStep &step : m_preTokenizers)
        pieces = applyPreTokenizer(step, pieces, atStart);
    pieces.erase(std::remove_if(pieces.begin(), pieces.end(), [](const std::string &p) { return p.empty(); }),
                 pieces.end());
    return pieces;
}

std::string HfPipeline::decode(std::vector<DecodePiece> pieces) const
{
    for (const DecoderStep &step : m_decoders)
        applyDecoder(step, pieces);
    std::string out;
    for (const DecodePiece &p : pieces)
        out += p.text;
    return out;
}

} // namespace awq
