#include "jinja_unicode.h"

#include <algorithm>

#include <utf8proc.h>

#include "tokenizer/unicode_text.h" // decodeAt, appendUtf8, shared with the tokenizer

namespace awq::chat::jinja {

namespace {

// Python's full case mappings where they differ from the simple (one code point) ones
// utf8proc gives: SpecialCasing.txt's unconditional entries, generated with
//   [(c, chr(c).upper(), chr(c).title()) for c in range(0x110000) if len(chr(c).upper()) > 1]
// (Python 3.11, Unicode 14). The only lowercase one, U+0130, is in fullLower().
struct FullCase {
    char32_t cp;
    const char *upper, *title;
};
const FullCase kFullCase[] = {
    {0x00DF, "\x53\x53", "\x53\x73"}, // \xdf -> SS, Ss
    {0x0149, "\xCA\xBC\x4E", "\xCA\xBC\x4E"}, // \u0149 -> \u02bcN, \u02bcN
    {0x01F0, "\x4A\xCC\x8C", "\x4A\xCC\x8C"}, // \u01f0 -> J\u030c, J\u030c
    {0x0390, "\xCE\x99\xCC\x88\xCC\x81", "\xCE\x99\xCC\x88\xCC\x81"}, // \u0390 -> \u0399\u0308\u0301, \u0399\u0308\u0301
    {0x03B0, "\xCE\xA5\xCC\x88\xCC\x81", "\xCE\xA5\xCC\x88\xCC\x81"}, // \u03b0 -> \u03a5\u0308\u0301, \u03a5\u0308\u0301
    {0x0587, "\xD4\xB5\xD5\x92", "\xD4\xB5\xD6\x82"}, // \u0587 -> \u0535\u0552, \u0535\u0582
    {0x1E96, "\x48\xCC\xB1", "\x48\xCC\xB1"}, // \u1e96 -> H\u0331, H\u0331
    {0x1E97, "\x54\xCC\x88", "\x54\xCC\x88"}, // \u1e97 -> T\u0308, T\u0308
    {0x1E98, "\x57\xCC\x8A", "\x57\xCC\x8A"}, // \u1e98 -> W\u030a, W\u030a
    {0x1E99, "\x59\xCC\x8A", "\x59\xCC\x8A"}, // \u1e99 -> Y\u030a, Y\u030a
    {0x1E9A, "\x41\xCA\xBE", "\x41\xCA\xBE"}, // \u1e9a -> A\u02be, A\u02be
    {0x1F50, "\xCE\xA5\xCC\x93", "\xCE\xA5\xCC\x93"}, // \u1f50 -> \u03a5\u0313, \u03a5\u0313
    {0x1F52, "\xCE\xA5\xCC\x93\xCC\x80", "\xCE\xA5\xCC\x93\xCC\x80"}, // \u1f52 -> \u03a5\u0313\u0300, \u03a5\u0313\u0300
    {0x1F54, "\xCE\xA5\xCC\x93\xCC\x81", "\xCE\xA5\xCC\x93\xCC\x81"}, // \u1f54 -> \u03a5\u0313\u0301, \u03a5\u0313\u0301
    {0x1F56, "\xCE\xA5\xCC\x93\xCD\x82", "\xCE\xA5\xCC\x93\xCD\x82"}, // \u1f56 -> \u03a5\u0313\u0342, \u03a5\u0313\u0342
    {0x1F80, "\xE1\xBC\x88\xCE\x99", "\xE1\xBE\x88"}, // \u1f80 -> \u1f08\u0399, \u1f88
    {0x1F81, "\xE1\xBC\x89\xCE\x99", "\xE1\xBE\x89"}, // \u1f81 -> \u1f09\u0399, \u1f89
    {0x1F82, "\xE1\xBC\x8A\xCE\x99", "\xE1\xBE\x8A"}, // \u1f82 -> \u1f0a\u0399, \u1f8a
    {0x1F83, "\xE1\xBC\x8B\xCE\x99", "\xE1\xBE\x8B"}, // \u1f83 -> \u1f0b\u0399, \u1f8b
    {0x1F84, "\xE1\xBC\x8C\xCE\x99", "\xE1\xBE\x8C"}, // \u1f84 -> \u1f0c\u0399, \u1f8c
    {0x1F85, "\xE1\xBC\x8D\xCE\x99", "\xE1\xBE\x8D"}, // \u1f85 -> \u1f0d\u0399, \u1f8d
    {0x1F86, "\xE1\xBC\x8E\xCE\x99", "\xE1\xBE\x8E"}, // \u1f86 -> \u1f0e\u0399, \u1f8e
    {0x1F87, "\xE1\xBC\x8F\xCE\x99", "\xE1\xBE\x8F"}, // \u1f87 -> \u1f0f\u0399, \u1f8f
    {0x1F88, "\xE1\xBC\x88\xCE\x99", "\xE1\xBE\x88"}, // \u1f88 -> \u1f08\u0399, \u1f88
    {0x1F89, "\xE1\xBC\x89\xCE\x99", "\xE1\xBE\x89"}, // \u1f89 -> \u1f09\u0399, \u1f89
    {0x1F8A, "\xE1\xBC\x8A\xCE\x99", "\xE1\xBE\x8A"}, // \u1f8a -> \u1f0a\u0399, \u1f8a
    {0x1F8B, "\xE1\xBC\x8B\xCE\x99", "\xE1\xBE\x8B"}, // \u1f8b -> \u1f0b\u0399, \u1f8b
    {0x1F8C, "\xE1\xBC\x8C\xCE\x99", "\xE1\xBE\x8C"}, // \u1f8c -> \u1f0c\u0399, \u1f8c
    {0x1F8D, "\xE1\xBC\x8D\xCE\x99", "\xE1\xBE\x8D"}, // \u1f8d -> \u1f0d\u0399, \u1f8d
    {0x1F8E, "\xE1\xBC\x8E\xCE\x99", "\xE1\xBE\x8E"}, // \u1f8e -> \u1f0e\u0399, \u1f8e
    {0x1F8F, "\xE1\xBC\x8F\xCE\x99", "\xE1\xBE\x8F"}, // \u1f8f -> \u1f0f\u0399, \u1f8f
    {0x1F90, "\xE1\xBC\xA8\xCE\x99", "\xE1\xBE\x98"}, // \u1f90 -> \u1f28\u0399, \u1f98
    {0x1F91, "\xE1\xBC\xA9\xCE\x99", "\xE1\xBE\x99"}, // \u1f91 -> \u1f29\u0399, \u1f99
    {0x1F92, "\xE1\xBC\xAA\xCE\x99", "\xE1\xBE\x9A"}, // \u1f92 -> \u1f2a\u0399, \u1f9a
    {0x1F93, "\xE1\xBC\xAB\xCE\x99", "\xE1\xBE\x9B"}, // \u1f93 -> \u1f2b\u0399, \u1f9b
    {0x1F94, "\xE1\xBC\xAC\xCE\x99", "\xE1\xBE\x9C"}, // \u1f94 -> \u1f2c\u0399, \u1f9c
    {0x1F95, "\xE1\xBC\xAD\xCE\x99", "\xE1\xBE\x9D"}, // \u1f95 -> \u1f2d\u0399, \u1f9d
    {0x1F96, "\xE1\xBC\xAE\xCE\x99", "\xE1\xBE\x9E"}, // \u1f96 -> \u1f2e\u0399, \u1f9e
    {0x1F97, "\xE1\xBC\xAF\xCE\x99", "\xE1\xBE\x9F"}, // \u1f97 -> \u1f2f\u0399, \u1f9f
    {0x1F98, "\xE1\xBC\xA8\xCE\x99", "\xE1\xBE\x98"}, // \u1f98 -> \u1f28\u0399, \u1f98
    {0x1F99, "\xE1\xBC\xA9\xCE\x99", "\xE1\xBE\x99"}, // \u1f99 -> \u1f29\u0399, \u1f99
    {0x1F9A, "\xE1\xBC\xAA\xCE\x99", "\xE1\xBE\x9A"}, // \u1f9a -> \u1f2a\u0399, \u1f9a
    {0x1F9B, "\xE1\xBC\xAB\xCE\x99", "\xE1\xBE\x9B"}, // \u1f9b -> \u1f2b\u0399, \u1f9b
    {0x1F9C, "\xE1\xBC\xAC\xCE\x99", "\xE1\xBE\x9C"}, // \u1f9c -> \u1f2c\u0399, \u1f9c
    {0x1F9D, "\xE1\xBC\xAD\xCE\x99", "\xE1\xBE\x9D"}, // \u1f9d -> \u1f2d\u0399, \u1f9d
    {0x1F9E, "\xE1\xBC\xAE\xCE\x99", "\xE1\xBE\x9E"}, // \u1f9e -> \u1f2e\u0399, \u1f9e
    {0x1F9F, "\xE1\xBC\xAF\xCE\x99", "\xE1\xBE\x9F"}, // \u1f9f -> \u1f2f\u0399, \u1f9f
    {0x1FA0, "\xE1\xBD\xA8\xCE\x99", "\xE1\xBE\xA8"}, // \u1fa0 -> \u1f68\u0399, \u1fa8
    {0x1FA1, "\xE1\xBD\xA9\xCE\x99", "\xE1\xBE\xA9"}, // \u1fa1 -> \u1f69\u0399, \u1fa9
    {0x1FA2, "\xE1\xBD\xAA\xCE\x99", "\xE1\xBE\xAA"}, // \u1fa2 -> \u1f6a\u0399, \u1faa
    {0x1FA3, "\xE1\xBD\xAB\xCE\x99", "\xE1\xBE\xAB"}, // \u1fa3 -> \u1f6b\u0399, \u1fab
    {0x1FA4, "\xE1\xBD\xAC\xCE\x99", "\xE1\xBE\xAC"}, // \u1fa4 -> \u1f6c\u0399, \u1fac
    {0x1FA5, "\xE1\xBD\xAD\xCE\x99", "\xE1\xBE\xAD"}, // \u1fa5 -> \u1f6d\u0399, \u1fad
    {0x1FA6, "\xE1\xBD\xAE\xCE\x99", "\xE1\xBE\xAE"}, // \u1fa6 -> \u1f6e\u0399, \u1fae
    {0x1FA7, "\xE1\xBD\xAF\xCE\x99", "\xE1\xBE\xAF"}, // \u1fa7 -> \u1f6f\u0399, \u1faf
    {0x1FA8, "\xE1\xBD\xA8\xCE\x99", "\xE1\xBE\xA8"}, // \u1fa8 -> \u1f68\u0399, \u1fa8
    {0x1FA9, "\xE1\xBD\xA9\xCE\x99", "\xE1\xBE\xA9"}, // \u1fa9 -> \u1f69\u0399, \u1fa9
    {0x1FAA, "\xE1\xBD\xAA\xCE\x99", "\xE1\xBE\xAA"}, // \u1faa -> \u1f6a\u0399, \u1faa
    {0x1FAB, "\xE1\xBD\xAB\xCE\x99", "\xE1\xBE\xAB"}, // \u1fab -> \u1f6b\u0399, \u1fab
    {0x1FAC, "\xE1\xBD\xAC\xCE\x99", "\xE1\xBE\xAC"}, // \u1fac -> \u1f6c\u0399, \u1fac
    {0x1FAD, "\xE1\xBD\xAD\xCE\x99", "\xE1\xBE\xAD"}, // \u1fad -> \u1f6d\u0399, \u1fad
    {0x1FAE, "\xE1\xBD\xAE\xCE\x99", "\xE1\xBE\xAE"}, // \u1fae -> \u1f6e\u0399, \u1fae
    {0x1FAF, "\xE1\xBD\xAF\xCE\x99", "\xE1\xBE\xAF"}, // \u1faf -> \u1f6f\u0399, \u1faf
    {0x1FB2, "\xE1\xBE\xBA\xCE\x99", "\xE1\xBE\xBA\xCD\x85"}, // \u1fb2 -> \u1fba\u0399, \u1fba\u0345
    {0x1FB3, "\xCE\x91\xCE\x99", "\xE1\xBE\xBC"}, // \u1fb3 -> \u0391\u0399, \u1fbc
    {0x1FB4, "\xCE\x86\xCE\x99", "\xCE\x86\xCD\x85"}, // \u1fb4 -> \u0386\u0399, \u0386\u0345
    {0x1FB6, "\xCE\x91\xCD\x82", "\xCE\x91\xCD\x82"}, // \u1fb6 -> \u0391\u0342, \u0391\u0342
    {0x1FB7, "\xCE\x91\xCD\x82\xCE\x99", "\xCE\x91\xCD\x82\xCD\x85"}, // \u1fb7 -> \u0391\u0342\u0399, \u0391\u0342\u0345
    {0x1FBC, "\xCE\x91\xCE\x99", "\xE1\xBE\xBC"}, // \u1fbc -> \u0391\u0399, \u1fbc
    {0x1FC2, "\xE1\xBF\x8A\xCE\x99", "\xE1\xBF\x8A\xCD\x85"}, // \u1fc2 -> \u1fca\u0399, \u1fca\u0345
    {0x1FC3, "\xCE\x97\xCE\x99", "\xE1\xBF\x8C"}, // \u1fc3 -> \u0397\u0399, \u1fcc
    {0x1FC4, "\xCE\x89\xCE\x99", "\xCE\x89\xCD\x85"}, // \u1fc4 -> \u0389\u0399, \u0389\u0345
    {0x1FC6, "\xCE\x97\xCD\x82", "\xCE\x97\xCD\x82"}, // \u1fc6 -> \u0397\u0342, \u0397\u0342
    {0x1FC7, "\xCE\x97\xCD\x82\xCE\x99", "\xCE\x97\xCD\x82\xCD\x85"}, // \u1fc7 -> \u0397\u0342\u0399, \u0397\u0342\u0345
    {0x1FCC, "\xCE\x97\xCE\x99", "\xE1\xBF\x8C"}, // \u1fcc -> \u0397\u0399, \u1fcc
    {0x1FD2, "\xCE\x99\xCC\x88\xCC\x80", "\xCE\x99\xCC\x88\xCC\x80"}, // \u1fd2 -> \u0399\u0308\u0300, \u0399\u0308\u0300
    {0x1FD3, "\xCE\x99\xCC\x88\xCC\x81", "\xCE\x99\xCC\x88\xCC\x81"}, // \u1fd3 -> \u0399\u0308\u0301, \u0399\u0308\u0301
    {0x1FD6, "\xCE\x99\xCD\x82", "\xCE\x99\xCD\x82"}, // \u1fd6 -> \u0399\u0342, \u0399\u0342
    {0x1FD7, "\xCE\x99\xCC\x88\xCD\x82", "\xCE\x99\xCC\x88\xCD\x82"}, // \u1fd7 -> \u0399\u0308\u0342, \u0399\u0308\u0342
    {0x1FE2, "\xCE\xA5\xCC\x88\xCC\x80", "\xCE\xA5\xCC\x88\xCC\x80"}, // \u1fe2 -> \u03a5\u0308\u0300, \u03a5\u0308\u0300
    {0x1FE3, "\xCE\xA5\xCC\x88\xCC\x81", "\xCE\xA5\xCC\x88\xCC\x81"}, // \u1fe3 -> \u03a5\u0308\u0301, \u03a5\u0308\u0301
    {0x1FE4, "\xCE\xA1\xCC\x93", "\xCE\xA1\xCC\x93"}, // \u1fe4 -> \u03a1\u0313, \u03a1\u0313
    {0x1FE6, "\xCE\xA5\xCD\x82", "\xCE\xA5\xCD\x82"}, // \u1fe6 -> \u03a5\u0342, \u03a5\u0342
    {0x1FE7, "\xCE\xA5\xCC\x88\xCD\x82", "\xCE\xA5\xCC\x88\xCD\x82"}, // \u1fe7 -> \u03a5\u0308\u0342, \u03a5\u0308\u0342
    {0x1FF2, "\xE1\xBF\xBA\xCE\x99", "\xE1\xBF\xBA\xCD\x85"}, // \u1ff2 -> \u1ffa\u0399, \u1ffa\u0345
    {0x1FF3, "\xCE\xA9\xCE\x99", "\xE1\xBF\xBC"}, // \u1ff3 -> \u03a9\u0399, \u1ffc
    {0x1FF4, "\xCE\x8F\xCE\x99", "\xCE\x8F\xCD\x85"}, // \u1ff4 -> \u038f\u0399, \u038f\u0345
    {0x1FF6, "\xCE\xA9\xCD\x82", "\xCE\xA9\xCD\x82"}, // \u1ff6 -> \u03a9\u0342, \u03a9\u0342
    {0x1FF7, "\xCE\xA9\xCD\x82\xCE\x99", "\xCE\xA9\xCD\x82\xCD\x85"}, // \u1ff7 -> \u03a9\u0342\u0399, \u03a9\u0342\u0345
    {0x1FFC, "\xCE\xA9\xCE\x99", "\xE1\xBF\xBC"}, // \u1ffc -> \u03a9\u0399, \u1ffc
    {0xFB00, "\x46\x46", "\x46\x66"}, // \ufb00 -> FF, Ff
    {0xFB01, "\x46\x49", "\x46\x69"}, // \ufb01 -> FI, Fi
    {0xFB02, "\x46\x4C", "\x46\x6C"}, // \ufb02 -> FL, Fl
    {0xFB03, "\x46\x46\x49", "\x46\x66\x69"}, // \ufb03 -> FFI, Ffi
    {0xFB04, "\x46\x46\x4C", "\x46\x66\x6C"}, // \ufb04 -> FFL, Ffl
    {0xFB05, "\x53\x54", "\x53\x74"}, // \ufb05 -> ST, St
    {0xFB06, "\x53\x54", "\x53\x74"}, // \ufb06 -> ST, St
    {0xFB13, "\xD5\x84\xD5\x86", "\xD5\x84\xD5\xB6"}, // \ufb13 -> \u0544\u0546, \u0544\u0576
    {0xFB14, "\xD5\x84\xD4\xB5", "\xD5\x84\xD5\xA5"}, // \ufb14 -> \u0544\u0535, \u0544\u0565
    {0xFB15, "\xD5\x84\xD4\xBB", "\xD5\x84\xD5\xAB"}, // \ufb15 -> \u0544\u053b, \u0544\u056b
    {0xFB16, "\xD5\x8E\xD5\x86", "\xD5\x8E\xD5\xB6"}, // \ufb16 -> \u054e\u0546, \u054e\u0576
    {0xFB17, "\xD5\x84\xD4\xBD", "\xD5\x84\xD5\xAD"}, // \ufb17 -> \u0544\u053d, \u0544\u056d
};

const FullCase *fullCase(char32_t cp)
{
    const auto it = std::lower_bound(std::begin(kFullCase), std::end(kFullCase), cp,
                                     [](const FullCase &f, char32_t c) { return f.cp < c; });
    return it != std::end(kFullCase) && it->cp == cp ? it : nullptr;
}

utf8proc_category_t categoryOf(char32_t cp)
{
    return cp > 0x10FFFF ? UTF8PROC_CATEGORY_CN : utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool isUpperCase(char32_t cp)
{
    const auto c = categoryOf(cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT;
}

bool isLowerCase(char32_t cp)
{
    return categoryOf(cp) == UTF8PROC_CATEGORY_LL;
}

// Unicode's Cased: upper-, lower- or titlecase letters and the few others with a case mapping.
bool isCased(char32_t cp)
{
    if (cp > 0x10FFFF)
        return false;
    const auto c = categoryOf(cp);
    if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT)
        return true;
    const auto i = static_cast<utf8proc_int32_t>(cp);
    return utf8proc_tolower(i) != i || utf8proc_toupper(i) != i;
}

// Case_Ignorable, as far as the final-sigma rule needs it: marks, format characters,
// modifiers and the word-internal punctuation Unicode lists.
bool isCaseIgnorable(char32_t cp)
{
    const auto c = categoryOf(cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_CF
           || c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_SK || cp == '\'' || cp == '.' || cp == ':'
           || cp == 0xB7 || cp == 0x2019;
}

std::vector<char32_t> codePoints(const std::string &s)
{
    std::vector<char32_t> out;
    out.reserve(s.size());
    for (size_t pos = 0; pos < s.size();) {
        size_t length = 1;
        char32_t cp = unicode::decodeAt(s, pos, length);
        if (cp == unicode::kInvalid)
            cp = 0xDC00 + static_cast<uint8_t>(s[pos]); // a lone byte, kept as Python's surrogateescape would
        out.push_back(cp);
        pos += length;
    }
    return out;
}

void append(std::string &out, char32_t cp)
{
    if (cp >= 0xDC80 && cp <= 0xDCFF)
        out += static_cast<char>(cp - 0xDC00);
    else
        unicode::appendUtf8(out, cp);
}

void appendMapped(std::string &out, char32_t cp, utf8proc_int32_t (*simple)(utf8proc_int32_t))
{
    if (cp >= 0xD800 && cp <= 0xDFFF)
        append(out, cp);
    else
        unicode::appendUtf8(out, static_cast<char32_t>(simple(static_cast<utf8proc_int32_t>(cp))));
}

void appendUpper(std::string &out, char32_t cp)
{
    if (const FullCase *f = fullCase(cp))
        out += f->upper;
    else
        appendMapped(out, cp, utf8proc_toupper);
}

void appendTitle(std::string &out, char32_t cp)
{
    if (const FullCase *f = fullCase(cp))
        out += f->title;
    else
        appendMapped(out, cp, utf8proc_totitle);
}

// Python's lower_ucs4: U+0130 to "i" + U+0307, and capital sigma to final sigma at the end
// of a word (a cased letter before it, none after it, case-ignorables skipped).
void appendLower(std::string &out, const std::vector<char32_t> &cps, size_t i)
{
    const char32_t cp = cps[i];
    if (cp == 0x130) {
        out += "i\xCC\x87";
        return;
    }
    if (cp == 0x3A3) {
        size_t j = i;
        while (j > 0 && isCaseIgnorable(cps[j - 1]))
            --j;
        const bool casedBefore = j > 0 && isCased(cps[j - 1]);
        size_t k = i + 1;
        while (k < cps.size() && isCaseIgnorable(cps[k]))
            ++k;
        const bool casedAfter = k < cps.size() && isCased(cps[k]);
        out += casedBefore && !casedAfter ? "\xCF\x82" : "\xCF\x83";
        return;
    }
    appendMapped(out, cp, utf8proc_tolower);
}

} // namespace

bool pyIsSpace(char32_t cp)
{
    if (cp > 0x10FFFF)
        return false;
    const utf8proc_property_t *p = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
    return p->category == UTF8PROC_CATEGORY_ZS || p->bidi_class == UTF8PROC_BIDI_CLASS_WS
           || p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

std::string pyStrip(const std::string &s, const std::string *chars, bool left, bool right)
{
    const std::vector<char32_t> cps = codePoints(s);
    std::vector<char32_t> set;
    if (chars)
        set = codePoints(*chars);
    const auto strip = [&](char32_t cp) {
        return chars ? std::find(set.begin(), set.end(), cp) != set.end() : pyIsSpace(cp);
    };
    size_t begin = 0, end = cps.size();
    while (left && begin < end && strip(cps[begin]))
        ++begin;
    while (right && end > begin && strip(cps[end - 1]))
        --end;
    std::string out;
    for (size_t i = begin; i < end; ++i)
        append(out, cps[i]);
    return out;
}

std::vector<std::string> pySplitWhitespace(const std::string &s, int64_t maxSplit)
{
    const std::vector<char32_t> cps = codePoints(s);
    std::vector<std::string> parts;
    size_t i = 0;
    while (i < cps.size()) {
        while (i < cps.size() && pyIsSpace(cps[i]))
            ++i;
        if (i >= cps.size())
            break;
        std::string part;
        if (maxSplit >= 0 && static_cast<int64_t>(parts.size()) == maxSplit) {
            for (; i < cps.size(); ++i) // the rest as it is, trailing whitespace included
                append(part, cps[i]);
            parts.push_back(std::move(part));
            break;
        }
        for (; i < cps.size() && !pyIsSpace(cps[i]); ++i)
            append(part, cps[i]);
        parts.push_back(std::move(part));
    }
    return parts;
}

std::string pyUpper(const std::string &s)
{
    std::string out;
    out.reserve(s.size());
    for (char32_t cp : codePoints(s))
        appendUpper(out, cp);
    return out;
}

std::string pyLower(const std::string &s)
{
    const std::vector<char32_t> cps = codePoints(s);
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < cps.size(); ++i)
        appendLower(out, cps, i);
    return out;
}

std::string pyTitle(const std::string &s)
{
    const std::vector<char32_t> cps = codePoints(s);
    std::string out;
    out.reserve(s.size());
    bool previousIsCased = false;
    for (size_t i = 0; i < cps.size(); ++i) {
        if (previousIsCased)
            appendLower(out, cps, i);
        else
            appendTitle(out, cps[i]);
        previousIsCased = isCased(cps[i]);
    }
    return out;
}

std::string pyCapitalize(const std::string &s)
{
    const std::vector<char32_t> cps = codePoints(s);
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < cps.size(); ++i) {
        if (i == 0)
            appendTitle(out, cps[i]);
        else
            appendLower(out, cps, i);
    }
    return out;
}

std::string jinjaTitle(const std::string &s)
{
    // Jinja's do_title: split at runs of [-\s({\[<] (kept), then item[0].upper() + item[1:].lower().
    const std::vector<char32_t> cps = codePoints(s);
    const auto isDelimiter = [](char32_t cp) {
        return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || pyIsSpace(cp);
    };
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < cps.size();) {
        const bool delimiter = isDelimiter(cps[i]);
        size_t end = i;
        while (end < cps.size() && isDelimiter(cps[end]) == delimiter)
            ++end;
        appendUpper(out, cps[i]);
        const std::vector<char32_t> rest(cps.begin() + static_cast<std::ptrdiff_t>(i + 1),
                                         cps.begin() + static_cast<std::ptrdiff_t>(end));
        for (size_t k = 0; k < rest.size(); ++k)
            appendLower(out, rest, k); // item[1:].lower(): the final-sigma context is the rest alone
        i = end;
    }
    return out;
}

bool pyIsLower(const std::string &s)
{
    bool cased = false;
    for (char32_t cp : codePoints(s)) {
        if (isUpperCase(cp))
            return false;
        cased = cased || isLowerCase(cp);
    }
    return cased;
}

bool pyIsUpper(const std::string &s)
{
    bool cased = false;
    for (char32_t cp : codePoints(s)) {
        if (isLowerCase(cp) || categoryOf(cp) == UTF8PROC_CATEGORY_LT)
            return false;
        cased = cased || categoryOf(cp) == UTF8PROC_CATEGORY_LU;
    }
    return cased;
}

} // namespace awq::chat::jinja
