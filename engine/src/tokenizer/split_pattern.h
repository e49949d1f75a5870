#pragma once
// The regular expressions byte-level BPE tokenizers split text with before BPE (GPT-2's,
// Llama 3's, Qwen2's and their relatives), matched by hand: std::regex has no \p{L}.
//
// A pattern is a list of alternatives tried in order at each position (leftmost-first, as
// Oniguruma does). An alternative is a sequence of character classes, each with a greedy
// quantifier, optionally ending in the look-ahead (?!\S); or a group (?i:...) of literals.
// Classes: a literal character, \p{L}, \p{N}, \s, \S, \r, \n, \t, and [...] / [^...] sets
// of those. Anything else (other groups, anchors, lazy quantifiers, \d, \w, ...) makes
// compile() throw Error(UnsupportedModel) naming the file and the part it cannot read.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace awq {

class SplitPattern
{
public:
    // GPT-2's pattern, which the ByteLevel pre-tokenizer uses when use_regex is true.
    static constexpr const char *kGpt2 =
        R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

    // `where` names the file for errors.
    static SplitPattern compile(const std::string &pattern, const std::string &where);

    // The matches and the text between them, in order ("Isolated" behaviour); their
    // concatenation is `text`.
    std::vector<std::string_view> split(std::string_view text) const;

    // The end of the match starting at `pos`, or npos when no alternative matches there.
    size_t matchAt(std::string_view text, size_t pos) const;

    struct CharClass {
        bool negated = false;
        bool whitespace = false, letter = false, number = false, nonWhitespace = false;
        bool caseInsensitive = false; // for literals: ASCII case folding
        std::u32string literals;
        bool matches(char32_t cp) const;
    };
    struct Atom {
        CharClass cls;
        size_t min = 1, max = 1; // max == npos: unbounded
    };
    struct Alternative {
        std::vector<Atom> atoms;
        bool notFollowedByLookahead = false; // (?!X): the next character must not be in `lookahead`
        CharClass lookahead;
    };

private:
    size_t matchFrom(const Alternative &alt, std::string_view text, size_t atom, size_t pos) const;
    std::vector<Alternative> m_alternatives;
};

} // namespace awq
