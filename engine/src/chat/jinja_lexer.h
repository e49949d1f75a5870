#pragma once
// Splits a chat template into text and tag tokens, applying whitespace control as
// transformers configures Jinja for chat templates: trim_blocks and lstrip_blocks on,
// "-" and "+" markers honoured, one trailing newline of the template dropped.

#include <cstdint>
#include <string>
#include <vector>

namespace awq::chat::jinja {

struct Token
{
    enum class Kind {
        Text,          // literal output between tags (text holds it)
        VariableBegin, // {{
        VariableEnd,   // }}
        BlockBegin,    // {%
        BlockEnd,      // %}
        Name,          // identifier or keyword
        String,        // a string literal, escapes resolved
        Integer,
        Float,
        Operator,      // punctuation: ( ) [ ] { } . , : | = == != < > <= >= + - * / // % ** ~
        End,           // end of the template
    };
    Kind kind = Kind::End;
    std::string text;
    int64_t integer = 0;
    double number = 0;
    int line = 1, column = 1;
};

// Throws Error(Format) naming line and column on an unterminated tag, comment or string,
// or a character that cannot start a token.
std::vector<Token> tokenize(const std::string &source);

// "line 3, column 7" for messages.
std::string describePosition(int line, int column);

} // namespace awq::chat::jinja
