#pragma once
// The parsed form of a chat template: expressions and statements, each remembering the
// line and column it came from for evaluation errors.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja_value.h"

namespace awq::chat::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr
{
    enum class Kind {
        Literal,   // value
        Name,      // name
        List,      // items (also tuples)
        Dict,      // items: key, value, key, value, ...
        Attribute, // object . name
        Subscript, // object [ items[0] ]
        Slice,     // object [ start : stop : step ]; absent parts are null
        Call,      // object ( items , named )
        Filter,    // object | name ( items , named )
        Test,      // object is [not] name ( items )
        Unary,     // op object   ("-", "+", "not")
        Binary,    // object op items[0]   (arithmetic, comparison, "in", "not in", "and", "or")
        Ternary,   // items[0] if object else items[1]; items[1] may be null
    };
    Kind kind = Kind::Literal;
    int line = 0, column = 0;
    Value value;
    std::string name; // Name, Attribute, Filter, Test; the operator for Unary and Binary
    bool negated = false; // Test: "is not"
    ExprPtr object;
    std::vector<ExprPtr> items;
    std::vector<std::pair<std::string, ExprPtr>> named;
    ExprPtr start, stop, step;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt
{
    enum class Kind {
        Text,     // text
        Output,   // {{ expr }}
        If,       // conditions[i] -> bodies[i]; a trailing extra body is the else branch
        For,      // for targets in expr [if filter]: bodies[0] [else bodies[1]]
        Set,      // set targets[0] (or ns.attribute when attribute is set) = expr
        SetBlock, // {% set name %}bodies[0]{% endset %}
        Macro,    // macro name(params with defaults): bodies[0]
        Break,
        Continue,
        Scope,    // a body rendered in place ({% generation %})
    };
    Kind kind = Kind::Text;
    int line = 0, column = 0;
    std::string text;
    ExprPtr expr;   // Output, For (iterable), Set (value)
    ExprPtr filter; // For: the "if" clause
    std::vector<ExprPtr> conditions;
    std::vector<Body> bodies;
    std::vector<std::string> targets; // For loop variables, Set name, Macro parameter names
    std::string attribute;             // Set ns.attribute
    std::vector<ExprPtr> defaults;     // Macro: one per parameter, null when none
};

} // namespace awq::chat::jinja
