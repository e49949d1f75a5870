#pragma once
// Parses the token stream of a chat template into statements.

#include <vector>

#include "jinja_ast.h"
#include "jinja_lexer.h"

namespace awq::chat::jinja {

// Throws Error(Format) "chat template line L, column C: <problem>" on a syntax error:
// an unexpected token, a tag never closed, an end tag with nothing open, an unknown tag.
Body parseTemplate(const std::vector<Token> &tokens);

} // namespace awq::chat::jinja
