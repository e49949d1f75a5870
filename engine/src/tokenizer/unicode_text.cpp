#include "unicode_text.h"

#include <algorithm>
#include <array>

#include <utf8proc.h>

namespace awq::unicode {

bool isLetter(char32_t cp)
{
    if (cp > 0x10FFFF)
        return false;
    const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    return category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO;
}

bool isNumber(char32_t cp)
{
    if (cp > 0x10FFFF)
        return false;
    const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    return category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO;
}

bool isWhitespace(char32_t cp)
{
    switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

namespace {

// The length a lead byte announces (0 for a byte that cannot start a sequence) and the
// allowed range of the second byte (which excludes overlong forms, surrogates and > U+10FFFF).
struct LeadInfo {
    int length;
    uint8_t secondMin, secondMax;
};

LeadInfo leadInfo(uint8_t b)
{
    if (b < 0x80)
        return {1, 0, 0};
    if (b >= 0xC2 && b <= 0xDF)
        return {2, 0x80, 0xBF};
    if (b == 0xE0)
        return {3, 0xA0, 0xBF};
    if (b == 0xED)
        return {3, 0x80, 0x9F};
    if (b >= 0xE1 && b <= 0xEF)
        return {3, 0x80, 0xBF};
    if (b == 0xF0)
        return {4, 0x90, 0xBF};
    if (b >= 0xF1 && b <= 0xF3)
        return {4, 0x80, 0xBF};
    if (b == 0xF4)
        return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

// How many bytes from text[pos] form a valid (possibly truncated) prefix of the sequence.
size_t validPrefix(std::string_view text, size_t pos, const LeadInfo &info)
{
    size_t n = 1;
    while (n < static_cast<size_t>(info.length) && pos + n < text.size()) {
        const auto b = static_cast<uint8_t>(text[pos + n]);
        const bool ok = n == 1 ? (b >= info.secondMin && b <= info.secondMax) : (b & 0xC0) == 0x80;
        if (!ok)
            break;
        ++n;
    }
    return n;
}

} // namespace

char32_t decodeAt(std::string_view text, size_t pos, size_t &length)
{
    const auto lead = static_cast<uint8_t>(text[pos]);
    length = 1;
    if (lead < 0x80)
        return lead;
    const LeadInfo info = leadInfo(lead);
    if (info.length == 0 || validPrefix(text, pos, info) != static_cast<size_t>(info.length))
        return kInvalid;
    char32_t cp = lead & (info.length == 2 ? 0x1F : info.length == 3 ? 0x0F : 0x07);
    for (int i = 1; i < info.length; ++i)
        cp = (cp << 6) | (static_cast<uint8_t>(text[pos + i]) & 0x3F);
    length = static_cast<size_t>(info.length);
    return cp;
}

void appendUtf8(std::string &out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string repairUtf8KeepingIncompleteTail(const std::string &bytes)
{
    std::string out;
    out.reserve(bytes.size());
    size_t pos = 0;
    while (pos < bytes.size()) {
        size_t length = 1;
        if (decodeAt(bytes, pos, length) != kInvalid) {
            out.append(bytes, pos, length);
            pos += length;
            continue;
        }
        const LeadInfo info = leadInfo(static_cast<uint8_t>(bytes[pos]));
        const size_t prefix = info.length == 0 ? 0 : validPrefix(bytes, pos, info);
        if (info.length != 0 && pos + prefix == bytes.size()) {
            out.append(bytes, pos, prefix); // truncated at the end: the rest may still come
            break;
        }
        out += "\xEF\xBF\xBD";
        pos += std::max<size_t>(prefix, 1);
    }
    return out;
}

namespace {

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the other 68
// bytes map to U+0100 upwards in byte order.
struct ByteLevelAlphabet {
    std::array<std::string, 256> chars;
    std::array<int16_t, 0x200> bytes{};

    ByteLevelAlphabet()
    {
        bytes.fill(-1);
        char32_t next = 0x100;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
            appendUtf8(chars[b], cp);
            bytes[cp] = static_cast<int16_t>(b);
        }
    }
};

const ByteLevelAlphabet &alphabet()
{
    static const ByteLevelAlphabet instance;
    return instance;
}

} // namespace

const std::string &byteLevelChar(uint8_t byte)
{
    return alphabet().chars[byte];
}

int byteLevelByte(char32_t cp)
{
    return cp < 0x200 ? alphabet().bytes[cp] : -1;
}

} // namespace awq::unicode
