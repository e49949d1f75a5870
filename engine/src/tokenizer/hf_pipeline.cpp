#include "hf_pipeline.h"

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "unicode_text.h"

namespace awq {

using nlohmann::json;

namespace {

constexpr const char *kMetaspace = "\xE2\x96\x81"; // U+2581, sentencepiece's space

std::string typeOf(const json &j, const std::string &where, const char *what)
{
    AWQ_CHECK(j.is_object() && j.contains("type") && j["type"].is_string(), Format, where, ": every ", what,
              " must be an object with a 'type'");
    return j["type"].get<std::string>();
}

std::string stringField(const json &j, const char *key, const std::string &where, const char *what,
                        const std::string &fallback = {})
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

// {"String": "x"} -> ("String", "x"); {"Regex": "..."} -> ("Regex", "...").
std::pair<std::string, std::string> patternOf(const json &j, const std::string &where, const char *what)
{
    AWQ_CHECK(j.contains("pattern") && j["pattern"].is_object() && j["pattern"].size() == 1, Format, where, ": ",
              what, ".pattern must be {\"String\": ...} or {\"Regex\": ...}");
    const auto entry = j["pattern"].begin();
    const std::string kind = entry.key();
    AWQ_CHECK((kind == "String" || kind == "Regex") && entry.value().is_string(), Format, where, ": ", what,
              ".pattern must be {\"String\": ...} or {\"Regex\": ...}");
    return {kind, entry.value().get<std::string>()};
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

void parseNormalizer(const json &j, const std::string &where, std::vector<NormalizerStep> &out)
{
    const std::string type = typeOf(j, where, "normalizer");
    if (type == "Sequence") {
        for (const auto &step : listField(j, "normalizers", where, "normalizer"))
            parseNormalizer(step, where, out);
    } else if (type == "Prepend") {
        out.push_back({NormalizerStep::Kind::Prepend, {}, stringField(j, "prepend", where, "Prepend")});
    } else if (type == "Replace") {
        const auto [kind, pattern] = patternOf(j, where, "Replace");
        AWQ_CHECK(kind == "String", UnsupportedModel, where, ": a Replace normalizer with a Regex pattern is not supported");
        out.push_back({NormalizerStep::Kind::Replace, pattern, stringField(j, "content", where, "Replace")});
    } else if (type == "NFC") {
        out.push_back({NormalizerStep::Kind::Nfc, {}, {}});
    } else {
        fail(ErrorCode::UnsupportedModel, where, ": the normalizer '", type,
             "' is not supported (supported: Prepend, Replace, NFC, Sequence)");
    }
}

void parsePreTokenizer(const json &j, const std::string &where, std::vector<PreTokenizerStep> &out)
{
    const std::string type = typeOf(j, where, "pre_tokenizer");
    if (type == "Sequence") {
        for (const auto &step : listField(j, "pretokenizers", where, "pre_tokenizer"))
            parsePreTokenizer(step, where, out);
        return;
    }
    PreTokenizerStep step;
    if (type == "ByteLevel") {
        step.addPrefixSpace = boolField(j, "add_prefix_space", true, where, "ByteLevel");
        step.useRegex = boolField(j, "use_regex", true, where, "ByteLevel");
        if (step.useRegex)
            step.regex = SplitPattern::compile(SplitPattern::kGpt2, where);
    } else if (type == "Split") {
        step.kind = PreTokenizerStep::Kind::Split;
        const auto [kind, pattern] = patternOf(j, where, "Split");
        const std::string behavior = stringField(j, "behavior", where, "Split", "Isolated");
        AWQ_CHECK(behavior == "Isolated" && !boolField(j, "invert", false, where, "Split"), UnsupportedModel, where,
                  ": a Split pre-tokenizer with behavior '", behavior, "' or invert is not supported (only Isolated)");
        if (kind == "Regex")
            step.regex = SplitPattern::compile(pattern, where);
        else
            step.literal = pattern;
        AWQ_CHECK(step.regex || !step.literal.empty(), Format, where, ": a Split pre-tokenizer has an empty pattern");
    } else if (type == "Metaspace") {
        step.kind = PreTokenizerStep::Kind::Metaspace;
        step.replacement = stringField(j, "replacement", where, "Metaspace", kMetaspace);
        AWQ_CHECK(!step.replacement.empty(), Format, where, ": Metaspace.replacement is empty");
        step.prepend = prependSchemeOf(j, where);
        step.splitOnReplacement = boolField(j, "split", true, where, "Metaspace");
    } else {
        fail(ErrorCode::UnsupportedModel, where, ": the pre-tokenizer '", type,
             "' is not supported (supported: ByteLevel, Split, Metaspace, Sequence)");
    }
    out.push_back(std::move(step));
}

void parseDecoder(const json &j, const std::string &where, std::vector<DecoderStep> &out)
{
    const std::string type = typeOf(j, where, "decoder");
    DecoderStep step;
    if (type == "Sequence") {
        for (const auto &inner : listField(j, "decoders", where, "decoder"))
            parseDecoder(inner, where, out);
        return;
    } else if (type == "ByteLevel") {
    } else if (type == "Replace") {
        step.kind = DecoderStep::Kind::Replace;
        const auto [kind, pattern] = patternOf(j, where, "Replace");
        AWQ_CHECK(kind == "String", UnsupportedModel, where, ": a Replace decoder with a Regex pattern is not supported");
        step.pattern = pattern;
        step.content = stringField(j, "content", where, "Replace");
    } else if (type == "ByteFallback") {
        step.kind = DecoderStep::Kind::ByteFallback;
    } else if (type == "Fuse") {
        step.kind = DecoderStep::Kind::Fuse;
    } else if (type == "Strip") {
        step.kind = DecoderStep::Kind::Strip;
        step.content = stringField(j, "content", where, "Strip", " ");
        for (const char *key : {"start", "stop"})
            AWQ_CHECK(!j.contains(key) || j[key].is_number_unsigned(), Format, where, ": Strip.", key,
                      " must be a count");
        step.start = j.value("start", size_t{0});
        step.stop = j.value("stop", size_t{0});
    } else if (type == "Metaspace") {
        step.kind = DecoderStep::Kind::Metaspace;
        step.content = stringField(j, "replacement", where, "Metaspace", kMetaspace);
        step.stripFirst = prependSchemeOf(j, where) != PrependScheme::Never;
    } else {
        fail(ErrorCode::UnsupportedModel, where, ": the decoder '", type,
             "' is not supported (supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence)");
    }
    out.push_back(std::move(step));
}

// "<0x41>" -> 0x41; -1 for anything else.
int byteFallbackValue(const std::string &piece)
{
    if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>')
        return -1;
    int value = 0;
    for (size_t i = 3; i < 5; ++i) {
        const char c = piece[i];
        const int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

// Byte-level characters back to bytes; a token with other characters stays as it is.
std::string byteLevelToBytes(const std::string &token)
{
    std::string bytes;
    for (size_t pos = 0; pos < token.size();) {
        size_t length = 1;
        const int byte = unicode::byteLevelByte(unicode::decodeAt(token, pos, length));
        if (byte < 0)
            return token;
        bytes += static_cast<char>(byte);
        pos += length;
    }
    return bytes;
}

std::string stripToken(const std::string &token, const std::string &content, size_t start, size_t stop)
{
    size_t begin = 0, end = token.size();
    for (size_t i = 0; i < start && token.compare(begin, content.size(), content) == 0 && begin < end; ++i)
        begin += content.size();
    for (size_t i = 0; i < stop && end - begin >= content.size()
                       && token.compare(end - content.size(), content.size(), content) == 0;
         ++i)
        end -= content.size();
    return token.substr(begin, end - begin);
}

} // namespace

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
    for (const NormalizerStep &step : m_normalizers) {
        switch (step.kind) {
        case NormalizerStep::Kind::Prepend:
            if (!text.empty())
                text.insert(0, step.content);
            break;
        case NormalizerStep::Kind::Replace:
            replaceAll(text, step.pattern, step.content);
            break;
        case NormalizerStep::Kind::Nfc:
            break; // the input is taken to be NFC already (see the header)
        }
    }
    return text;
}

std::vector<std::string> HfPipeline::preTokenize(const std::string &text, bool atStart) const
{
    std::vector<std::string> pieces{text};
    for (const PreTokenizerStep &step : m_preTokenizers) {
        std::vector<std::string> next;
        for (size_t i = 0; i < pieces.size(); ++i) {
            std::string piece = pieces[i];
            if (piece.empty())
                continue;
            switch (step.kind) {
            case PreTokenizerStep::Kind::ByteLevel: {
                if (step.addPrefixSpace && piece.front() != ' ')
                    piece.insert(0, " ");
                std::vector<std::string_view> words{piece};
                if (step.regex)
                    words = step.regex->split(piece);
                for (std::string_view word : words) {
                    std::string mapped;
                    for (char c : word)
                        mapped += unicode::byteLevelChar(static_cast<uint8_t>(c));
                    next.push_back(std::move(mapped));
                }
                break;
            }
            case PreTokenizerStep::Kind::Split:
                if (step.regex) {
                    for (std::string_view word : step.regex->split(piece))
                        next.emplace_back(word);
                } else {
                    size_t pos = 0;
                    for (size_t hit; (hit = piece.find(step.literal, pos)) != std::string::npos;
                         pos = hit + step.literal.size()) {
                        if (hit > pos)
                            next.push_back(piece.substr(pos, hit - pos));
                        next.push_back(step.literal);
                    }
                    if (pos < piece.size())
                        next.push_back(piece.substr(pos));
                }
                break;
            case PreTokenizerStep::Kind::Metaspace: {
                replaceAll(piece, " ", step.replacement);
                const bool prepend = step.prepend == PrependScheme::Always
                                     || (step.prepend == PrependScheme::First && atStart && i == 0);
                if (prepend && piece.compare(0, step.replacement.size(), step.replacement) != 0)
                    piece.insert(0, step.replacement);
                if (!step.splitOnReplacement) {
                    next.push_back(std::move(piece));
                    break;
                }
                // Each replacement starts a new word ("MergedWithNext").
                size_t begin = 0;
                for (size_t hit = piece.find(step.replacement, 1); hit != std::string::npos;
                     hit = piece.find(step.replacement, hit + step.replacement.size())) {
                    if (hit > begin)
                        next.push_back(piece.substr(begin, hit - begin));
                    begin = hit;
                }
                next.push_back(piece.substr(begin));
                break;
            }
            }
        }
        pieces = std::move(next);
    }
    return pieces;
}

std::string HfPipeline::decode(std::vector<DecodePiece> pieces) const
{
    for (const DecoderStep &step : m_decoders) {
        switch (step.kind) {
        case DecoderStep::Kind::ByteLevel:
            for (DecodePiece &p : pieces)
                if (!p.verbatim)
                    p.text = byteLevelToBytes(p.text);
            break;
        case DecoderStep::Kind::Replace:
            for (DecodePiece &p : pieces)
                replaceAll(p.text, step.pattern, step.content);
            break;
        case DecoderStep::Kind::ByteFallback: {
            std::vector<DecodePiece> out;
            bool previousWasByte = false;
            for (DecodePiece &p : pieces) {
                const int byte = p.verbatim ? -1 : byteFallbackValue(p.text);
                if (byte < 0) {
                    out.push_back(std::move(p));
                } else if (previousWasByte) {
                    out.back().text += static_cast<char>(byte);
                } else {
                    out.push_back({std::string(1, static_cast<char>(byte)), true});
                }
                previousWasByte = byte >= 0;
            }
            pieces = std::move(out);
            break;
        }
        case DecoderStep::Kind::Fuse: {
            DecodePiece fused;
            for (const DecodePiece &p : pieces)
                fused.text += p.text;
            pieces = {std::move(fused)};
            break;
        }
        case DecoderStep::Kind::Strip:
            for (DecodePiece &p : pieces)
                p.text = stripToken(p.text, step.content, step.start, step.stop);
            break;
        case DecoderStep::Kind::Metaspace:
            for (size_t i = 0; i < pieces.size(); ++i) {
                std::string &text = pieces[i].text;
                if (i == 0 && step.stripFirst && text.compare(0, step.content.size(), step.content) == 0)
                    text.erase(0, step.content.size());
                replaceAll(text, step.content, " ");
            }
            break;
        }
    }
    std::string out;
    for (const DecodePiece &p : pieces)
        out += p.text;
    return out;
}

} // namespace awq
