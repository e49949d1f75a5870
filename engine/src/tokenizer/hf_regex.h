#pragma once
// The regular expressions of a tokenizer.json (Split pre-tokenizers, ByteLevel's GPT-2
// pattern, Replace normalizers and decoders), matched with PCRE2 (UTF, UCP, JIT).
//
// `tokenizers` compiles them with Oniguruma (Ruby syntax); compile() translates the few
// constructs whose meaning differs in PCRE2 and refuses, naming the construct, what
// PCRE2 cannot express. See Note [Oniguruma to PCRE2] in hf_regex.cpp.
//
// Matching is bounded: a match that needs more than a fixed number of backtracking steps
// (catastrophic backtracking in a hostile pattern) throws Error(UnsupportedModel) naming
// the file and the pattern instead of running for hours. Invalid UTF-8 in the text is
// matched by nothing (PCRE2_MATCH_INVALID_UTF): it lands between matches.
//
// An HfRegex is immutable after compile() and may be used from several threads.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace awq {

// A stretch of text and whether the pattern matched it.
struct MatchSpan {
    size_t begin, end;
    bool isMatch;
};

class HfRegex
{
public:
    // GPT-2's pattern, which the ByteLevel pre-tokenizer uses when use_regex is true.
    static constexpr const char *kGpt2 =
        R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

    // `pattern` in Oniguruma syntax as tokenizer.json writes it; `where` names the file
    // for errors. Throws Error(UnsupportedModel) for constructs PCRE2 cannot express and
    // Error(Format) for a pattern that is not a regular expression.
    static HfRegex compile(const std::string &pattern, const std::string &where);
    // Matches `text` literally (a {"String": ...} pattern); must not be empty.
    static HfRegex literal(const std::string &text, const std::string &where);

    // The matches and the text between them, in order, as `tokenizers`' Pattern::find_matches
    // returns them for Oniguruma: empty matches included, except one right at the end of
    // the previous match. Their concatenation is `text`; an empty text gives one empty,
    // unmatched span.
    std::vector<MatchSpan> findMatches(std::string_view text) const;

    const std::string &pattern() const { return m_pattern; }

private:
    struct Compiled;
    std::shared_ptr<const Compiled> m_code;
    std::string m_pattern, m_where;
};

} // namespace awq
