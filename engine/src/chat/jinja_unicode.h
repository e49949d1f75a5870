#pragma once
// Python's str semantics on UTF-8 text, for the chat templates' string filters and methods
// (Jinja2 runs them on Python str): whitespace as str.isspace(), full case mapping
// ("ß".upper() == "SS", final sigma in lower()), strip(chars) by code point. Categories
// and simple case mappings are utf8proc's; the multi-character mappings Python adds from
// SpecialCasing.txt are a table in jinja_unicode.cpp. Invalid UTF-8 bytes pass through
// unchanged (as Python's surrogateescape would keep them).

#include <cstdint>
#include <string>
#include <vector>

namespace awq::chat::jinja {

// str.isspace() for one character: bidirectional class WS, B or S, or category Zs.
bool pyIsSpace(char32_t cp);
// str.strip/lstrip/rstrip; `chars` null means whitespace, else the set of its code points.
std::string pyStrip(const std::string &s, const std::string *chars, bool left, bool right);
// str.split() without a separator: runs of whitespace separate, none at either end
// (after maxSplit splits the rest is one part, its trailing whitespace kept); maxSplit < 0
// means no limit.
std::vector<std::string> pySplitWhitespace(const std::string &s, int64_t maxSplit);
std::string pyUpper(const std::string &s);
std::string pyLower(const std::string &s);
std::string pyTitle(const std::string &s);      // str.title()
std::string pyCapitalize(const std::string &s); // str.capitalize() (titlecase first, Python 3.8+)
std::string jinjaTitle(const std::string &s);   // the |title filter, which is not str.title()
bool pyIsLower(const std::string &s);
bool pyIsUpper(const std::string &s);

} // namespace awq::chat::jinja
