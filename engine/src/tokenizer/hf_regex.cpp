#include "hf_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cctype>

#include "awq/core/error.h"

namespace awq {

// Note [Oniguruma to PCRE2]
// `tokenizers` compiles patterns with the onig crate: Ruby syntax, UTF-8, no options. Most
// of that syntax means the same in PCRE2 with PCRE2_UTF | PCRE2_UCP; the differences:
//  - \s, \S: Oniguruma's White_Space. PCRE2's \s adds U+180E, so they become
//    \p{White_Space} and \P{White_Space} (a binary property PCRE2 knows since 10.40).
//  - \w: Oniguruma's is Letter | Mark | Decimal_Number | Connector_Punctuation, PCRE2's is
//    Letter | Number | '_': written out as those properties. \W the same, negated; inside
//    a character class a negated union cannot be written out, so [\W...] is refused.
//  - \h, \H: Oniguruma's hexadecimal digit (PCRE2's horizontal space).
//  - ^ and $ always match at line breaks in Ruby: PCRE2_MULTILINE. '.' matches anything
//    but '\n' in both (the newline convention is set to LF).
//  - (?m) is Ruby's "dot matches newline": PCRE2's (?s). \uHHHH becomes \x{HHHH}.
//  - Refused by name: the absent operator (?~...), class intersection &&, nested classes.
// Tests: tst_tokenizer_json's regexTranslation* cases.

namespace {

constexpr uint32_t kMatchLimit = 2'000'000;   // backtracking steps per match attempt
constexpr uint32_t kDepthLimit = 10'000;      // nested backtracking frames (interpreter)
constexpr uint32_t kHeapLimitKiB = 64 * 1024; // interpreter's backtracking memory
constexpr size_t kJitStackMax = 8 << 20;
constexpr size_t kMaxPatternLength = 64 * 1024;

const char *const kWordSet = R"(\p{L}\p{M}\p{Nd}\p{Pc})";

std::string pcreMessage(int code)
{
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(code, buffer, sizeof buffer);
    return reinterpret_cast<const char *>(buffer);
}

[[noreturn]] void refuse(const std::string &where, const std::string &pattern, const std::string &what)
{
    fail(ErrorCode::UnsupportedModel, where, ": the pattern '", pattern, "' uses ", what,
         ", which this version cannot translate to PCRE2");
}

std::string translateOniguruma(const std::string &p, const std::string &where)
{
    std::string out;
    out.reserve(p.size() + 32);
    bool inClass = false;
    for (size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\') {
            if (i + 1 >= p.size()) {
                out += c;
                continue; // PCRE2 reports the trailing backslash
            }
            const char e = p[++i];
            switch (e) {
            case 's': out += R"(\p{White_Space})"; break;
            case 'S': out += R"(\P{White_Space})"; break;
            case 'w': out += inClass ? std::string(kWordSet) : "[" + std::string(kWordSet) + "]"; break;
            case 'W':
                if (inClass)
                    refuse(where, p, "\\W inside a character class");
                out += "[^" + std::string(kWordSet) + "]";
                break;
            case 'h': out += inClass ? "0-9a-fA-F" : "[0-9a-fA-F]"; break;
            case 'H':
                if (inClass)
                    refuse(where, p, "\\H inside a character class");
                out += "[^0-9a-fA-F]";
                break;
            case 'u': // Oniguruma's \uHHHH is PCRE2's \x{HHHH}
                if (i + 4 < p.size() && std::all_of(p.begin() + static_cast<std::ptrdiff_t>(i + 1),
                                                     p.begin() + static_cast<std::ptrdiff_t>(i + 5),
                                                     [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); })) {
                    out += "\\x{" + p.substr(i + 1, 4) + "}";
                    i += 4;
                    break;
                }
                refuse(where, p, "\\u without four hexadecimal digits");
            default:
                out += c;
                out += e;
            }
            continue;
        }
        if (inClass) {
            if (c == '[') {
                if (p.compare(i, 2, "[:") == 0) { // POSIX bracket [:alpha:]
                    const size_t close = p.find(":]", i + 2);
                    if (close == std::string::npos)
                        refuse(where, p, "an unterminated [: bracket");
                    out.append(p, i, close + 2 - i);
                    i = close + 1;
                    continue;
                }
                refuse(where, p, "a nested character class");
            }
            if (c == '&' && i + 1 < p.size() && p[i + 1] == '&')
                refuse(where, p, "a character class intersection (&&)");
            if (c == ']')
                inClass = false;
            out += c;
            continue;
        }
        if (c == '[') {
            inClass = true;
            out += c;
            // A ']' right after '[' or '[^' is a literal.
            if (i + 1 < p.size() && p[i + 1] == '^')
                out += p[++i];
            if (i + 1 < p.size() && p[i + 1] == ']')
                out += p[++i];
            continue;
        }
        if (c == '(' && p.compare(i, 3, "(?~") == 0)
            refuse(where, p, "the absent operator (?~...)");
        if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
            // An option group (?imx-imx) or (?imx-imx:...): Ruby's m is PCRE2's s.
            size_t j = i + 2;
            while (j < p.size() && (p[j] == 'i' || p[j] == 'm' || p[j] == 'x' || p[j] == '-'))
                ++j;
            if (j > i + 2 && j < p.size() && (p[j] == ')' || p[j] == ':')) {
                out += "(?";
                for (size_t k = i + 2; k < j; ++k)
                    out += p[k] == 'm' ? 's' : p[k];
                i = j - 1;
                continue;
            }
        }
        out += c;
    }
    return out;
}

struct CodeDeleter {
    void operator()(pcre2_code *code) const { pcre2_code_free(code); }
};

// Per-thread match state: the JIT stack and match data cannot be shared between threads.
struct MatchScratch {
    pcre2_match_context *context = nullptr;
    pcre2_jit_stack *jitStack = nullptr;
    pcre2_match_data *data = nullptr;
    MatchScratch()
    {
        context = pcre2_match_context_create(nullptr);
        jitStack = pcre2_jit_stack_create(32 * 1024, kJitStackMax, nullptr);
        data = pcre2_match_data_create(1, nullptr);
        AWQ_CHECK(context && jitStack && data, OutOfMemory, "cannot allocate the PCRE2 match state");
        pcre2_set_match_limit(context, kMatchLimit);
        pcre2_set_depth_limit(context, kDepthLimit);
        pcre2_set_heap_limit(context, kHeapLimitKiB);
        pcre2_jit_stack_assign(context, nullptr, jitStack);
    }
    ~MatchScratch()
    {
        pcre2_match_data_free(data);
        pcre2_jit_stack_free(jitStack);
        pcre2_match_context_free(context);
    }
    MatchScratch(const MatchScratch &) = delete;
    MatchScratch &operator=(const MatchScratch &) = delete;
};

MatchScratch &scratch()
{
    thread_local MatchScratch s;
    return s;
}

size_t charLength(std::string_view text, size_t pos)
{
    if (pos >= text.size())
        return 1;
    const auto b = static_cast<uint8_t>(text[pos]);
    size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    // Stop at the first byte that does not continue the sequence (invalid UTF-8).
    for (size_t k = 1; k < n; ++k)
        if (pos + k >= text.size() || (static_cast<uint8_t>(text[pos + k]) & 0xC0) != 0x80)
            return k;
    return n;
}

} // namespace

struct HfRegex::Compiled {
    std::unique_ptr<pcre2_code, CodeDeleter> code;
};

HfRegex HfRegex::compile(const std::string &pattern, const std::string &where)
{
    AWQ_CHECK(pattern.size() <= kMaxPatternLength, UnsupportedModel, where, ": a pattern of ", pattern.size(),
              " bytes is longer than the ", kMaxPatternLength, " this version accepts");
    const std::string translated = translateOniguruma(pattern, where);
    pcre2_compile_context *context = pcre2_compile_context_create(nullptr);
    AWQ_CHECK(context, OutOfMemory, "cannot allocate a PCRE2 compile context");
    pcre2_set_newline(context, PCRE2_NEWLINE_LF);
    pcre2_set_max_pattern_length(context, kMaxPatternLength * 4);
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code *code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE, &error,
                                     &offset, context);
    pcre2_compile_context_free(context);
    AWQ_CHECK(code, Format, where, ": the pattern '", pattern, "' is not a regular expression PCRE2 accepts (",
              pcreMessage(error), " at offset ", offset, " of '", translated, "')");
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); // without JIT the interpreter runs it
    HfRegex regex;
    auto compiled = std::make_shared<Compiled>();
    compiled->code.reset(code);
    regex.m_code = std::move(compiled);
    regex.m_pattern = pattern;
    regex.m_where = where;
    return regex;
}

HfRegex HfRegex::literal(const std::string &text, const std::string &where)
{
    AWQ_CHECK(!text.empty(), Format, where, ": a String pattern is empty");
    std::string escaped;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x80 && !std::isalnum(u))
            escaped += '\\';
        escaped += c;
    }
    HfRegex regex = compile(escaped, where);
    regex.m_pattern = text;
    return regex;
}

std::vector<MatchSpan> HfRegex::findMatches(std::string_view text) const
{
    if (text.empty())
        return {{0, 0, false}};
    MatchScratch &s = scratch();
    std::vector<MatchSpan> spans;
    size_t previous = 0, searchFrom = 0;
    bool matchedBefore = false;
    size_t lastMatchEnd = 0;
    const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    while (searchFrom <= text.size()) {
        const int rc = pcre2_match(m_code->code.get(), subject, text.size(), searchFrom, 0, s.data, s.context);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            const bool limit = rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT
                               || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
            fail(ErrorCode::UnsupportedModel, m_where, ": the pattern '", m_pattern, "' ",
                 limit ? "needs more backtracking than allowed on this text (" : "failed on this text (",
                 pcreMessage(rc), ")");
        }
        const PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(s.data);
        const size_t begin = ovector[0], end = ovector[1];
        if (begin >= end && matchedBefore && lastMatchEnd == end) {
            // Oniguruma's find_iter takes no empty match right after the previous one.
            searchFrom += charLength(text, searchFrom);
            continue;
        }
        if (end < begin) // \K in a lookahead: not a span, skip past it
            break;
        searchFrom = end;
        lastMatchEnd = end;
        matchedBefore = true;
        if (previous != begin)
            spans.push_back({previous, begin, false});
        spans.push_back({begin, end, true});
        previous = end;
    }
    if (previous != text.size())
        spans.push_back({previous, text.size(), false});
    return spans;
}

} // namespace awq
