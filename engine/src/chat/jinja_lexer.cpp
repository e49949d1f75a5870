#include "jinja_lexer.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "awq/core/error.h"
#include "tokenizer/unicode_text.h" // appendUtf8, shared with the tokenizer

namespace awq::chat::jinja {

std::string describePosition(int line, int column)
{
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

class Lexer
{
public:
    explicit Lexer(const std::string &source) : m_src(source)
    {
        // keep_trailing_newline=False: Jinja drops one newline at the very end.
        if (!m_src.empty() && m_src.back() == '\n') {
            m_src.pop_back();
            if (!m_src.empty() && m_src.back() == '\r')
                m_src.pop_back();
        }
        m_lineStarts.push_back(0);
        for (size_t i = 0; i < m_src.size(); ++i)
            if (m_src[i] == '\n')
                m_lineStarts.push_back(i + 1);
    }

    std::vector<Token> run()
    {
        size_t pos = 0;
        const size_t n = m_src.size();
        while (pos < n) {
            const size_t tag = findTagStart(pos);
            std::string text = m_src.substr(pos, (tag == std::string::npos ? n : tag) - pos);
            if (tag == std::string::npos) {
                pushText(std::move(text), pos);
                break;
            }
            const char kind = m_src[tag + 1];
            const char marker = tag + 2 < n ? m_src[tag + 2] : '\0';
            if (marker == '-') {
                while (!text.empty() && isSpace(text.back()))
                    text.pop_back();
            } else if (kind != '{' && marker != '+') {
                // lstrip_blocks: a block or comment tag alone on its line loses the indentation before it.
                const size_t lineStart = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
                const bool startsLine = lineStart > 0 || pos == 0 || m_src[pos - 1] == '\n';
                const bool onlyBlanks = std::all_of(text.begin() + static_cast<std::ptrdiff_t>(lineStart), text.end(),
                                                    [](char c) { return c == ' ' || c == '\t'; });
                if (startsLine && onlyBlanks)
                    text.erase(lineStart);
            }
            pushText(std::move(text), pos);
            pos = kind == '#' ? skipComment(tag) : lexTag(tag, kind);
        }
        m_tokens.push_back(makeToken(Token::Kind::End, "", n));
        return std::move(m_tokens);
    }

private:
    size_t findTagStart(size_t from) const
    {
        for (size_t i = m_src.find('{', from); i != std::string::npos; i = m_src.find('{', i + 1))
            if (i + 1 < m_src.size() && (m_src[i + 1] == '{' || m_src[i + 1] == '%' || m_src[i + 1] == '#'))
                return i;
        return std::string::npos;
    }

    void position(size_t offset, int &line, int &column) const
    {
        const auto it = std::upper_bound(m_lineStarts.begin(), m_lineStarts.end(), offset);
        line = static_cast<int>(it - m_lineStarts.begin());
        column = static_cast<int>(offset - *(it - 1)) + 1;
    }

    Token makeToken(Token::Kind kind, std::string text, size_t offset) const
    {
        Token t;
        t.kind = kind;
        t.text = std::move(text);
        position(offset, t.line, t.column);
        return t;
    }

    [[noreturn]] void error(size_t offset, const std::string &what) const
    {
        int line = 0, column = 0;
        position(offset, line, column);
        fail(ErrorCode::Format, "chat template ", describePosition(line, column), ": ", what);
    }

    void pushText(std::string text, size_t offset)
    {
        if (!text.empty())
            m_tokens.push_back(makeToken(Token::Kind::Text, std::move(text), offset));
    }

    // After a tag: "-" strips all following whitespace; block and comment ends drop one newline (trim_blocks).
    size_t afterTag(size_t end, char stripMarker, bool trimNewline) const
    {
        if (stripMarker == '-') {
            while (end < m_src.size() && isSpace(m_src[end]))
                ++end;
        } else if (trimNewline && stripMarker != '+') {
            if (m_src.compare(end, 2, "\r\n") == 0)
                end += 2;
            else if (end < m_src.size() && m_src[end] == '\n')
                ++end;
        }
        return end;
    }

    size_t skipComment(size_t tag)
    {
        const size_t close = m_src.find("#}", tag + 2);
        if (close == std::string::npos)
            error(tag, "the comment is never closed (missing '#}')");
        const char marker = close > tag + 2 ? m_src[close - 1] : '\0';
        return afterTag(close + 2, marker, true);
    }

    size_t lexTag(size_t tag, char kind)
    {
        const bool block = kind == '%';
        m_tokens.push_back(makeToken(block ? Token::Kind::BlockBegin : Token::Kind::VariableBegin, "", tag));
        const char closeChar = block ? '%' : '}';
        size_t p = tag + 2;
        if (p < m_src.size() && (m_src[p] == '-' || m_src[p] == '+'))
            ++p;
        int depth = 0;
        for (;;) {
            while (p < m_src.size() && isSpace(m_src[p]))
                ++p;
            if (p >= m_src.size())
                error(tag, block ? "the tag is never closed (missing '%}')" : "the expression is never closed (missing '}}')");
            if (depth == 0) {
                char marker = '\0';
                size_t q = p;
                if ((m_src[q] == '-' || m_src[q] == '+') && q + 1 < m_src.size() && m_src[q + 1] == closeChar)
                    marker = m_src[q++];
                if (m_src.compare(q, 2, std::string(1, closeChar) + "}") == 0) {
                    m_tokens.push_back(makeToken(block ? Token::Kind::BlockEnd : Token::Kind::VariableEnd, "", p));
                    return afterTag(q + 2, marker, block);
                }
            }
            p = lexToken(p, depth);
        }
    }

    size_t lexToken(size_t p, int &depth)
    {
        const char c = m_src[p];
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            size_t e = p;
            while (e < m_src.size() && (std::isalnum(static_cast<unsigned char>(m_src[e])) || m_src[e] == '_'))
                ++e;
            m_tokens.push_back(makeToken(Token::Kind::Name, m_src.substr(p, e - p), p));
            return e;
        }
        if (std::isdigit(static_cast<unsigned char>(c)))
            return lexNumber(p);
        if (c == '\'' || c == '"')
            return lexString(p);
        static const char *const twoChar[] = {"==", "!=", "<=", ">=", "//", "**"};
        for (const char *op : twoChar)
            if (m_src.compare(p, 2, op) == 0) {
                m_tokens.push_back(makeToken(Token::Kind::Operator, op, p));
                return p + 2;
            }
        if (std::string("()[]{}.,:|=<>+-*/%~").find(c) == std::string::npos)
            error(p, std::string("unexpected character '") + c + "'");
        if (c == '(' || c == '[' || c == '{')
            ++depth;
        else if ((c == ')' || c == ']' || c == '}') && depth > 0)
            --depth;
        m_tokens.push_back(makeToken(Token::Kind::Operator, std::string(1, c), p));
        return p + 1;
    }

    size_t lexNumber(size_t p)
    {
        size_t e = p;
        const auto digits = [&] {
            while (e < m_src.size() && (std::isdigit(static_cast<unsigned char>(m_src[e])) || m_src[e] == '_'))
                ++e;
        };
        digits();
        bool isFloat = false;
        if (e + 1 < m_src.size() && m_src[e] == '.' && std::isdigit(static_cast<unsigned char>(m_src[e + 1]))) {
            isFloat = true;
            ++e;
            digits();
        }
        if (e < m_src.size() && (m_src[e] == 'e' || m_src[e] == 'E')) {
            size_t x = e + 1;
            if (x < m_src.size() && (m_src[x] == '+' || m_src[x] == '-'))
                ++x;
            if (x < m_src.size() && std::isdigit(static_cast<unsigned char>(m_src[x]))) {
                isFloat = true;
                e = x;
                digits();
            }
        }
        std::string text = m_src.substr(p, e - p);
        text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
        Token t = makeToken(isFloat ? Token::Kind::Float : Token::Kind::Integer, text, p);
        if (isFloat)
            t.number = std::strtod(text.c_str(), nullptr);
        else
            t.integer = std::strtoll(text.c_str(), nullptr, 10);
        m_tokens.push_back(std::move(t));
        return e;
    }

    size_t lexString(size_t p)
    {
        const char quote = m_src[p];
        std::string value;
        size_t i = p + 1;
        for (;; ++i) {
            if (i >= m_src.size())
                error(p, "the string is never closed");
            const char c = m_src[i];
            if (c == quote)
                break;
            if (c != '\\' || i + 1 >= m_src.size()) {
                value += c;
                continue;
            }
            const char e = m_src[++i];
            switch (e) {
            case 'n': value += '\n'; break;
            case 't': value += '\t'; break;
            case 'r': value += '\r'; break;
            case '0': value += '\0'; break;
            case 'a': value += '\a'; break;
            case 'b': value += '\b'; break;
            case 'f': value += '\f'; break;
            case 'v': value += '\v'; break;
            case '\\': value += '\\'; break;
            case '\'': value += '\''; break;
            case '"': value += '"'; break;
            case '\n': break; // a backslash-newline continues the line
            case 'x':
            case 'u':
            case 'U': {
                const size_t width = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                const std::string hex = m_src.substr(i + 1, width);
                if (hex.size() != width || !std::all_of(hex.begin(), hex.end(), [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); }))
                    error(i - 1, std::string("bad \\") + e + " escape in a string");
                unicode::appendUtf8(value, static_cast<char32_t>(std::strtoul(hex.c_str(), nullptr, 16)));
                i += width;
                break;
            }
            default: value += '\\'; value += e; break; // Python keeps unknown escapes as written
            }
        }
        m_tokens.push_back(makeToken(Token::Kind::String, std::move(value), p));
        return i + 1;
    }

    std::string m_src;
    std::vector<size_t> m_lineStarts;
    std::vector<Token> m_tokens;
};

} // namespace

std::vector<Token> tokenize(const std::string &source)
{
    return Lexer(source).run();
}

} // namespace awq::chat::jinja
