#include "split_pattern.h"

#include "awq/core/error.h"
#include "unicode_text.h"

namespace awq {

namespace {

constexpr size_t kUnbounded = std::string::npos;

char32_t foldAscii(char32_t cp)
{
    return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
}

// Reads one alternative (or a group's member) of a pattern into SplitPattern::Alternative.
class AlternativeParser
{
public:
    AlternativeParser(std::string_view text, bool caseInsensitive, const std::string &pattern, const std::string &where)
        : m_text(text), m_caseInsensitive(caseInsensitive), m_pattern(pattern), m_where(where)
    {
    }

    SplitPattern::Alternative parse()
    {
        SplitPattern::Alternative alt;
        while (m_pos < m_text.size()) {
            if (m_text.substr(m_pos) == R"((?!\S))" && !alt.atoms.empty()) {
                alt.notFollowedByLookahead = true;
                alt.lookahead.nonWhitespace = true;
                break;
            }
            SplitPattern::Atom atom;
            atom.cls = parseClass();
            parseQuantifier(atom);
            alt.atoms.push_back(std::move(atom));
        }
        bool canBeEmpty = true;
        for (const auto &atom : alt.atoms)
            canBeEmpty &= atom.min == 0;
        if (canBeEmpty)
            unsupported("an alternative that can match nothing");
        return alt;
    }

private:
    [[noreturn]] void unsupported(const std::string &what) const
    {
        fail(ErrorCode::UnsupportedModel, m_where, ": the pre-tokenizer pattern '", m_pattern, "' has ", what, " in '",
             std::string(m_text), "', which this version cannot split (supported: the GPT-2, Llama 3 and Qwen2 ",
             "patterns and their parts: \\p{L}, \\p{N}, \\s, \\S, [^...] sets, ?, *, +, {m,n}, (?!\\S), (?i:...))");
    }

    char32_t nextChar()
    {
        size_t length = 1;
        const char32_t cp = unicode::decodeAt(m_text, m_pos, length);
        if (cp == unicode::kInvalid)
            unsupported("bytes that are not UTF-8");
        m_pos += length;
        return cp;
    }

    // After a backslash: adds what the escape stands for to `cls`.
    void parseEscape(SplitPattern::CharClass &cls)
    {
        if (m_pos >= m_text.size())
            unsupported("a trailing backslash");
        const char c = m_text[m_pos++];
        switch (c) {
        case 's': cls.whitespace = true; return;
        case 'S': cls.nonWhitespace = true; return;
        case 'r': cls.literals += U'\r'; return;
        case 'n': cls.literals += U'\n'; return;
        case 't': cls.literals += U'\t'; return;
        case 'p':
            if (m_text.substr(m_pos, 3) == "{L}") {
                cls.letter = true;
            } else if (m_text.substr(m_pos, 3) == "{N}") {
                cls.number = true;
            } else {
                unsupported("a Unicode class other than \\p{L} and \\p{N}");
            }
            m_pos += 3;
            return;
        default:
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                unsupported(std::string("the escape \\") + c);
            cls.literals += static_cast<char32_t>(static_cast<unsigned char>(c)); // an escaped punctuation mark
        }
    }

    SplitPattern::CharClass parseClass()
    {
        SplitPattern::CharClass cls;
        cls.caseInsensitive = m_caseInsensitive;
        const char c = m_text[m_pos];
        if (c == '\\') {
            ++m_pos;
            parseEscape(cls);
        } else if (c == '[') {
            ++m_pos;
            if (m_pos < m_text.size() && m_text[m_pos] == '^') {
                cls.negated = true;
                ++m_pos;
            }
            bool closed = false;
            while (m_pos < m_text.size()) {
                const char d = m_text[m_pos];
                if (d == ']') {
                    ++m_pos;
                    closed = true;
                    break;
                }
                if (d == '[' || (d == '-' && m_pos + 1 < m_text.size() && m_text[m_pos + 1] != ']'))
                    unsupported("a character range or nested set");
                if (d == '\\') {
                    ++m_pos;
                    parseEscape(cls);
                } else {
                    cls.literals += nextChar();
                }
            }
            if (!closed)
                unsupported("an unterminated [ set");
        } else if (std::string_view("().^$|*+?{}").find(c) != std::string_view::npos) {
            unsupported(std::string("the operator '") + c + "'");
        } else {
            cls.literals += nextChar();
        }
        return cls;
    }

    size_t parseNumber()
    {
        size_t value = 0;
        const size_t start = m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9')
            value = value * 10 + static_cast<size_t>(m_text[m_pos++] - '0');
        if (m_pos == start || value > 1000)
            unsupported("a malformed {m,n} repetition");
        return value;
    }

    void parseQuantifier(SplitPattern::Atom &atom)
    {
        if (m_pos >= m_text.size())
            return;
        const char c = m_text[m_pos];
        if (c == '?' || c == '*' || c == '+') {
            ++m_pos;
            atom.min = c == '+' ? 1 : 0;
            atom.max = c == '?' ? 1 : kUnbounded;
        } else if (c == '{') {
            ++m_pos;
            atom.min = parseNumber();
            atom.max = atom.min;
            if (m_pos < m_text.size() && m_text[m_pos] == ',') {
                ++m_pos;
                atom.max = (m_pos < m_text.size() && m_text[m_pos] == '}') ? kUnbounded : parseNumber();
            }
            if (m_pos >= m_text.size() || m_text[m_pos] != '}' || atom.max < atom.min || atom.max == 0)
                unsupported("a malformed {m,n} repetition");
            ++m_pos;
        } else {
            return;
        }
        if (m_pos < m_text.size() && (m_text[m_pos] == '?' || m_text[m_pos] == '+'))
            unsupported("a lazy or possessive quantifier");
    }

    std::string_view m_text;
    bool m_caseInsensitive;
    const std::string &m_pattern;
    const std::string &m_where;
    size_t m_pos = 0;
};

// Splits at '|' outside (...) and [...].
std::vector<std::string_view> topLevelAlternatives(std::string_view text)
{
    std::vector<std::string_view> parts;
    int depth = 0;
    bool inSet = false;
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\') {
            ++i;
        } else if (inSet) {
            inSet = c != ']';
        } else if (c == '[') {
            inSet = true;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            --depth;
        } else if (c == '|' && depth == 0) {
            parts.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    parts.push_back(text.substr(start));
    return parts;
}

} // namespace

bool SplitPattern::CharClass::matches(char32_t cp) const
{
    bool in = (whitespace && unicode::isWhitespace(cp)) || (nonWhitespace && !unicode::isWhitespace(cp))
              || (letter && unicode::isLetter(cp)) || (number && unicode::isNumber(cp));
    if (!in) {
        const char32_t key = caseInsensitive ? foldAscii(cp) : cp;
        for (char32_t literal : literals)
            in |= (caseInsensitive ? foldAscii(literal) : literal) == key;
    }
    return negated ? !in : in;
}

SplitPattern SplitPattern::compile(const std::string &pattern, const std::string &where)
{
    SplitPattern compiled;
    for (std::string_view alternative : topLevelAlternatives(pattern)) {
        bool caseInsensitive = false;
        std::string_view inner = alternative;
        if (alternative.rfind("(?i:", 0) == 0 || alternative.rfind("(?:", 0) == 0) {
            caseInsensitive = alternative[2] == 'i';
            const size_t open = caseInsensitive ? 4 : 3;
            if (alternative.back() != ')')
                AlternativeParser(alternative, false, pattern, where).parse(); // reports the group
            inner = alternative.substr(open, alternative.size() - open - 1);
            for (std::string_view member : topLevelAlternatives(inner))
                compiled.m_alternatives.push_back(AlternativeParser(member, caseInsensitive, pattern, where).parse());
            continue;
        }
        compiled.m_alternatives.push_back(AlternativeParser(alternative, false, pattern, where).parse());
    }
    return compiled;
}

size_t SplitPattern::matchFrom(const Alternative &alt, std::string_view text, size_t atomIndex, size_t pos) const
{
    if (atomIndex == alt.atoms.size()) {
        if (alt.notFollowedByLookahead && pos < text.size()) {
            size_t length = 1;
            if (alt.lookahead.matches(unicode::decodeAt(text, pos, length)))
                return std::string::npos;
        }
        return pos;
    }
    const Atom &atom = alt.atoms[atomIndex];
    // Greedy: take as many as allowed, then give back one at a time.
    std::vector<size_t> ends{pos};
    size_t p = pos;
    while ((atom.max == kUnbounded || ends.size() - 1 < atom.max) && p < text.size()) {
        size_t length = 1;
        if (!atom.cls.matches(unicode::decodeAt(text, p, length)))
            break;
        p += length;
        ends.push_back(p);
    }
    for (size_t count = ends.size() - 1; count + 1 > atom.min; --count) {
        const size_t end = matchFrom(alt, text, atomIndex + 1, ends[count]);
        if (end != std::string::npos)
            return end;
        if (count == 0)
            break;
    }
    return std::string::npos;
}

size_t SplitPattern::matchAt(std::string_view text, size_t pos) const
{
    for (const Alternative &alt : m_alternatives) {
        const size_t end = matchFrom(alt, text, 0, pos);
        if (end != std::string::npos && end > pos)
            return end;
    }
    return std::string::npos;
}

std::vector<std::string_view> SplitPattern::split(std::string_view text) const
{
    std::vector<std::string_view> pieces;
    size_t gapStart = 0, pos = 0;
    while (pos < text.size()) {
        const size_t end = matchAt(text, pos);
        if (end == std::string::npos) {
            size_t length = 1;
            unicode::decodeAt(text, pos, length);
            pos += length;
            continue;
        }
        if (gapStart < pos)
            pieces.push_back(text.substr(gapStart, pos - gapStart));
        pieces.push_back(text.substr(pos, end - pos));
        pos = gapStart = end;
    }
    if (gapStart < text.size())
        pieces.push_back(text.substr(gapStart));
    return pieces;
}

} // namespace awq
