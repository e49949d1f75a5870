#pragma once
// The filters, tests, methods and global functions chat templates use, with Jinja's and
// Python's semantics. Problems throw Error(Format) without a position; the evaluator adds
// the line and column of the expression.

#include <string>

#include "jinja_value.h"

namespace awq::chat::jinja {

Value applyFilter(const std::string &name, const Value &input, const CallArgs &args);
bool applyTest(const std::string &name, const Value &input, const CallArgs &args);
// obj.name(args): str, dict and list methods.
Value callMethod(const Value &object, const std::string &name, const CallArgs &args);
// range, namespace, dict, raise_exception (throws Error(InvalidArgument) with the
// template's message as is), strftime_now (local time).
Dict globalFunctions();

} // namespace awq::chat::jinja
