#pragma once
// Renders parsed chat-template statements with a set of variables.

#include <string>

#include "jinja_ast.h"

namespace awq::chat::jinja {

// `variables` are the template's globals (messages, add_generation_prompt, ...), on top of
// the built-in functions. Errors: raise_exception's Error(InvalidArgument) with the
// template's message; anything else Error(Format) "chat template line L, column C: ...".
std::string renderTemplate(const Body &body, const Dict &variables);

} // namespace awq::chat::jinja
