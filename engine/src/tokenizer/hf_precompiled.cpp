#include "hf_precompiled.h"

#include <utf8proc.h>

#include "awq/core/error.h"
#include "unicode_text.h"

namespace awq {

namespace {

// Darts-clone's double-array unit: a label byte (bit 31 set for a leaf's value unit), a
// has-leaf bit and an XOR offset to the children; a leaf unit holds the value in 31 bits.
bool hasLeaf(uint32_t unit) { return ((unit >> 8) & 1) != 0; }
uint32_t valueOf(uint32_t unit) { return unit & 0x7FFFFFFFu; }
uint32_t labelOf(uint32_t unit) { return unit & (0x80000000u | 0xFFu); }
uint32_t offsetOf(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

int base64Digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

} // namespace

std::optional<std::string> decodeBase64(std::string_view text)
{
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    if (text.size() % 4 == 1)
        return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
        const int digit = base64Digit(c);
        if (digit < 0)
            return std::nullopt;
        bits = (bits << 6) | static_cast<uint32_t>(digit);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xFF);
        }
    }
    return out;
}

PrecompiledCharsMap::PrecompiledCharsMap(const std::string &base64, const std::string &where) : m_where(where)
{
    if (base64.empty())
        return; // no rules: the identity, as sentencepiece's "identity" normalization
    const std::optional<std::string> blob = decodeBase64(base64);
    AWQ_CHECK(blob.has_value(), Format, where, ": the Precompiled normalizer's 'precompiled_charsmap' is not base64");
    AWQ_CHECK(blob->size() >= 4, Format, where, ": the Precompiled normalizer's charsmap is ", blob->size(),
              " bytes, too short for its header");
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>((*blob)[i])); };
    const uint32_t trieBytes = byte(0) | byte(1) << 8 | byte(2) << 16 | byte(3) << 24;
    AWQ_CHECK(trieBytes % 4 == 0 && trieBytes >= 4 && trieBytes <= blob->size() - 4, Format, where,
              ": the Precompiled normalizer's charsmap declares a trie of ", trieBytes, " bytes in a blob of ",
              blob->size(), " bytes");
    m_units.resize(trieBytes / 4);
    for (size_t i = 0; i < m_units.size(); ++i) {
        const size_t at = 4 + 4 * i;
        m_units[i] = byte(at) | byte(at + 1) << 8 | byte(at + 2) << 16 | byte(at + 3) << 24;
    }
    m_pool = blob->substr(4 + trieBytes);
}

std::optional<std::string_view> PrecompiledCharsMap::transform(std::string_view text) const
{
    if (m_units.empty())
        return std::nullopt;
    const auto unitAt = [&](size_t pos) {
        AWQ_CHECK(pos < m_units.size(), Format, m_where,
                  ": the Precompiled normalizer's charsmap is corrupt (its trie points past its end)");
        return m_units[pos];
    };
    size_t pos = offsetOf(m_units[0]);
    for (char ch : text) {
        const auto c = static_cast<uint8_t>(ch);
        if (c == 0)
            break;
        pos ^= c;
        const uint32_t unit = unitAt(pos);
        if (labelOf(unit) != c)
            return std::nullopt;
        pos ^= offsetOf(unit);
        if (hasLeaf(unit)) {
            const size_t start = valueOf(unitAt(pos));
            AWQ_CHECK(start < m_pool.size(), Format, m_where,
                      ": the Precompiled normalizer's charsmap is corrupt (a replacement past its end)");
            const size_t end = m_pool.find('\0', start);
            return std::string_view(m_pool).substr(start, (end == std::string::npos ? m_pool.size() : end) - start);
        }
    }
    return std::nullopt;
}

std::string PrecompiledCharsMap::normalize(const std::string &text) const
{
    if (m_units.empty())
        return text;
    std::string out;
    out.reserve(text.size());
    const std::string_view view(text);
    // One extended grapheme cluster, text[begin, end): whole when short, else by character.
    auto flushCluster = [&](size_t begin, size_t end) {
        const std::string_view cluster = view.substr(begin, end - begin);
        if (cluster.size() < 6) {
            if (const auto replacement = transform(cluster)) {
                out += *replacement;
                return;
            }
        }
        for (size_t pos = begin; pos < end;) {
            size_t length = 1;
            unicode::decodeAt(view, pos, length);
            const std::string_view character = view.substr(pos, length);
            const auto replacement = transform(character);
            out += replacement ? *replacement : character;
            pos += length;
        }
    };
    size_t clusterStart = 0;
    utf8proc_int32_t state = 0;
    char32_t previous = unicode::kInvalid;
    for (size_t pos = 0; pos < text.size();) {
        size_t length = 1;
        const char32_t cp = unicode::decodeAt(view, pos, length);
        if (cp == unicode::kInvalid) {
            // A byte outside UTF-8 ends the cluster before it and is kept as it is.
            if (pos > clusterStart)
                flushCluster(clusterStart, pos);
            out += text[pos];
            clusterStart = pos + 1;
            previous = unicode::kInvalid;
            state = 0;
            pos += 1;
            continue;
        }
        if (previous != unicode::kInvalid
            && utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(previous),
                                                static_cast<utf8proc_int32_t>(cp), &state)) {
            flushCluster(clusterStart, pos);
            clusterStart = pos;
        }
        previous = cp;
        pos += length;
    }
    if (text.size() > clusterStart)
        flushCluster(clusterStart, text.size());
    return out;
}

} // namespace awq
