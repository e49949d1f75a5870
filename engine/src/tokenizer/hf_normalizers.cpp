// tokenizer.json normalizers. Unicode normalization forms and case mapping are utf8proc's
// (Unicode 15); text that is not valid UTF-8 is normalized run by run, the invalid bytes
// left as they are (`tokenizers` only ever sees valid UTF-8).

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "awq/core/error.h"
#include "hf_pipeline.h"
#include "unicode_text.h"

namespace awq {

using nlohmann::json;

namespace {

// Calls `valid(run)` for each maximal run of valid UTF-8 and `invalid(byte)` for each
// byte outside one, in order.
template <typename Valid, typename Invalid>
void forEachRun(const std::string &text, Valid valid, Invalid invalid)
{
    size_t runStart = 0, pos = 0;
    while (pos < text.size()) {
        size_t length = 1;
        if (unicode::decodeAt(text, pos, length) != unicode::kInvalid) {
            pos += length;
            continue;
        }
        if (pos > runStart)
            valid(std::string_view(text).substr(runStart, pos - runStart));
        invalid(text[pos]);
        runStart = ++pos;
    }
    if (pos > runStart)
        valid(std::string_view(text).substr(runStart, pos - runStart));
}

std::string normalizationForm(const std::string &text, utf8proc_option_t options)
{
    if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<uint8_t>(c) < 0x80; }))
        return text; // ASCII is the same in every normalization form
    std::string out;
    out.reserve(text.size());
    forEachRun(
        text,
        [&](std::string_view run) {
            utf8proc_uint8_t *result = nullptr;
            const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(run.data()),
                                                    static_cast<utf8proc_ssize_t>(run.size()), &result,
                                                    static_cast<utf8proc_option_t>(options | UTF8PROC_STABLE));
            if (n < 0) {
                std::free(result);
                fail(ErrorCode::OutOfMemory, "Unicode normalization failed: ", utf8proc_errmsg(n));
            }
            out.append(reinterpret_cast<const char *>(result), static_cast<size_t>(n));
            std::free(result);
        },
        [&](char byte) { out += byte; });
    return out;
}

// Calls `fn(codePoint)` for each character of `text`; invalid bytes are copied to `out`.
template <typename Fn>
void forEachCodePoint(const std::string &text, std::string &out, Fn fn)
{
    for (size_t pos = 0; pos < text.size();) {
        size_t length = 1;
        const char32_t cp = unicode::decodeAt(text, pos, length);
        if (cp == unicode::kInvalid)
            out += text[pos];
        else
            fn(cp);
        pos += length;
    }
}

// Rust's char::to_lowercase, which `tokenizers` applies character by character (no
// final-sigma rule): the simple mapping, and U+0130 to "i" + U+0307.
std::string lowercase(const std::string &text)
{
    std::string out;
    out.reserve(text.size());
    forEachCodePoint(text, out, [&](char32_t cp) {
        if (cp == 0x130) {
            out += "i\xCC\x87";
            return;
        }
        unicode::appendUtf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    });
    return out;
}

std::string stripAccents(const std::string &text)
{
    std::string out;
    out.reserve(text.size());
    forEachCodePoint(text, out, [&](char32_t cp) {
        const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
        if (category < UTF8PROC_CATEGORY_MN || category > UTF8PROC_CATEGORY_ME)
            unicode::appendUtf8(out, cp);
    });
    return out;
}

std::string strip(const std::string &text, bool left, bool right)
{
    size_t begin = 0, end = text.size(), length = 1;
    while (left && begin < end && unicode::isWhitespace(unicode::decodeAt(text, begin, length)))
        begin += length;
    while (right && end > begin) {
        size_t start = end - 1;
        while (start > begin && end - start < 4 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80)
            --start;
        if (!unicode::isWhitespace(unicode::decodeAt(text, start, length)) || start + length != end)
            break;
        end = start;
    }
    return text.substr(begin, end - begin);
}

bool isChineseChar(char32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
           || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
           || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// tokenizers' BertNormalizer: drop NUL, U+FFFD and control/format/unassigned/private-use
// characters (not \t \n \r), whitespace to ' ', spaces around CJK ideographs, then the
// accents (NFD, nonspacing marks dropped) and lowercase.
std::string bertNormalize(const std::string &text, const NormalizerStep &step)
{
    std::string out;
    out.reserve(text.size());
    forEachCodePoint(text, out, [&](char32_t cp) {
        if (step.cleanText) {
            const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
            const bool control = cp != '\t' && cp != '\n' && cp != '\r'
                                 && (category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF
                                     || category == UTF8PROC_CATEGORY_CN || category == UTF8PROC_CATEGORY_CO);
            if (cp == 0 || cp == 0xFFFD || control)
                return;
            if (unicode::isWhitespace(cp))
                cp = ' ';
        }
        if (step.chineseChars && isChineseChar(cp)) {
            out += ' ';
            unicode::appendUtf8(out, cp);
            out += ' ';
            return;
        }
        unicode::appendUtf8(out, cp);
    });
    if (step.stripAccents) {
        const std::string decomposed = normalizationForm(out, UTF8PROC_DECOMPOSE);
        out.clear();
        forEachCodePoint(decomposed, out, [&](char32_t cp) {
            if (utf8proc_category(static_cast<utf8proc_int32_t>(cp)) != UTF8PROC_CATEGORY_MN)
                unicode::appendUtf8(out, cp);
        });
    }
    return step.lowercase ? lowercase(out) : out;
}

} // namespace

void parseNormalizer(const json &j, const std::string &where, std::vector<NormalizerStep> &out)
{
    using Kind = NormalizerStep::Kind;
    const std::string type = hf::typeOf(j, where, "normalizer");
    NormalizerStep step{Kind::Nfc, {}, nullptr, true, true};
    if (type == "Sequence") {
        for (const auto &inner : hf::listField(j, "normalizers", where, "normalizer"))
            parseNormalizer(inner, where, out);
        return;
    } else if (type == "Prepend") {
        step.kind = Kind::Prepend;
        step.content = hf::stringField(j, "prepend", where, "Prepend");
    } else if (type == "Replace") {
        step.kind = Kind::Replace;
        step.pattern = hf::patternOf(j, where, "Replace");
        step.content = hf::stringField(j, "content", where, "Replace");
    } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
        step.kind = type == "NFC" ? Kind::Nfc : type == "NFD" ? Kind::Nfd : type == "NFKC" ? Kind::Nfkc : Kind::Nfkd;
    } else if (type == "Lowercase") {
        step.kind = Kind::Lowercase;
    } else if (type == "StripAccents") {
        step.kind = Kind::StripAccents;
    } else if (type == "Strip") {
        step.kind = Kind::Strip;
        step.left = hf::boolField(j, "strip_left", true, where, "Strip");
        step.right = hf::boolField(j, "strip_right", true, where, "Strip");
    } else if (type == "BertNormalizer") {
        step.kind = Kind::Bert;
        step.cleanText = hf::boolField(j, "clean_text", true, where, "BertNormalizer");
        step.chineseChars = hf::boolField(j, "handle_chinese_chars", true, where, "BertNormalizer");
        step.lowercase = hf::boolField(j, "lowercase", true, where, "BertNormalizer");
        step.stripAccents = hf::boolField(j, "strip_accents", step.lowercase, where, "BertNormalizer");
    } else if (type == "Precompiled") {
        step.kind = Kind::Precompiled;
        const auto field = j.find("precompiled_charsmap");
        AWQ_CHECK(field != j.end() && (field->is_string() || field->is_null()), Format, where,
                  ": the Precompiled normalizer needs 'precompiled_charsmap' (a base64 string)");
        step.charsmap = std::make_shared<const PrecompiledCharsMap>(
            field->is_string() ? field->get<std::string>() : std::string(), where);
    } else {
        fail(ErrorCode::UnsupportedModel, where, ": the normalizer '", type,
             "' is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend, "
             "BertNormalizer, Precompiled, Sequence)");
    }
    out.push_back(std::move(step));
}

std::string applyNormalizer(const NormalizerStep &step, std::string text)
{
    using Kind = NormalizerStep::Kind;
    switch (step.kind) {
    case Kind::Prepend:
        if (!text.empty())
            text.insert(0, step.content);
        return text;
    case Kind::Replace:
        return hf::replaceMatches(*step.pattern, text, step.content);
    case Kind::Nfc:
        return normalizationForm(text, UTF8PROC_COMPOSE);
    case Kind::Nfd:
        return normalizationForm(text, UTF8PROC_DECOMPOSE);
    case Kind::Nfkc:
        return normalizationForm(text, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
    case Kind::Nfkd:
        return normalizationForm(text, static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT));
    case Kind::Lowercase:
        return lowercase(text);
    case Kind::StripAccents:
        return stripAccents(text);
    case Kind::Strip:
        return strip(text, step.left, step.right);
    case Kind::Bert:
        return bertNormalize(text, step);
    case Kind::Precompiled:
        return step.charsmap->normalize(text);
    }
    return text;
}

} // namespace awq
