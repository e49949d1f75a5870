#pragma once
// UTF-8 and Unicode helpers for the tokenizer.json backend: the code point classes added
// tokens' single_word and lstrip/rstrip look at (categories from utf8proc), UTF-8 stepping
// that tolerates invalid bytes, and GPT-2's byte <-> printable-character map used by
// byte-level BPE. Pattern matching is PCRE2's (hf_regex.h), normalization utf8proc's.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace awq::unicode {

// General category L* (Lu Ll Lt Lm Lo), as utf8proc knows it.
bool isLetter(char32_t cp);
// General category N* (Nd Nl No).
bool isNumber(char32_t cp);
// White_Space (Rust's char::is_whitespace), which is what \s matches in Oniguruma.
bool isWhitespace(char32_t cp);

// A code point returned for a byte that does not start a valid UTF-8 sequence; it is in
// none of the classes above. Such a byte counts as one character of length 1.
constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes the character at text[pos] (pos < text.size()); `length` receives its byte length.
char32_t decodeAt(std::string_view text, size_t pos, size_t &length);
void appendUtf8(std::string &out, char32_t cp);

// Replaces invalid UTF-8 with U+FFFD, except an incomplete but so far valid sequence at
// the very end, which is kept as is (the next token of a stream may complete it).
std::string repairUtf8KeepingIncompleteTail(const std::string &bytes);

// GPT-2's byte-level alphabet: byte -> the UTF-8 of its printable stand-in ("Ġ" for ' ').
const std::string &byteLevelChar(uint8_t byte);
// The byte a stand-in character represents, or -1 for a character outside the alphabet.
int byteLevelByte(char32_t cp);

} // namespace awq::unicode
