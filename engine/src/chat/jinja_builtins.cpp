#include "jinja_builtins.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>

#include "awq/core/error.h"
#include "jinja_unicode.h"

namespace awq::chat::jinja {

namespace {

// The argument at `index` or named `name`, else `fallback`.
Value argument(const CallArgs &args, size_t index, const char *name, Value fallback = Value::undefined())
{
    for (const auto &[key, value] : args.named)
        if (key == name)
            return value;
    return index < args.positional.size() ? args.positional[index] : fallback;
}

std::string textArgument(const CallArgs &args, size_t index, const char *name, const char *what)
{
    const Value v = argument(args, index, name);
    if (!v.isString())
        fail(ErrorCode::Format, what, ": the '", name, "' argument must be a string, got ", v.typeName());
    return v.asString();
}

int64_t intArgument(const CallArgs &args, size_t index, const char *name, int64_t fallback)
{
    const Value v = argument(args, index, name);
    if (v.isUndefined() || v.isNone())
        return fallback;
    if (v.type() != Value::Type::Int && v.type() != Value::Type::Bool)
        fail(ErrorCode::Format, "the '", name, "' argument must be an integer, got ", v.typeName());
    return v.asInt();
}

std::string replaced(const std::string &s, const std::string &from, const std::string &to, int64_t count)
{
    std::string out;
    size_t pos = 0;
    int64_t done = 0;
    if (from.empty()) {
        // Python inserts `to` between every character (and at both ends).
        const auto chars = utf8Characters(s);
        for (const auto &c : chars) {
            if (count < 0 || done < count) {
                out += to;
                ++done;
            }
            out += c;
        }
        return (count < 0 || done < count) ? out + to : out;
    }
    for (size_t hit; (count < 0 || done < count) && (hit = s.find(from, pos)) != std::string::npos; ++done) {
        out.append(s, pos, hit - pos);
        out += to;
        pos = hit + from.size();
    }
    return out + s.substr(pos);
}

List split(const std::string &s, const Value &separator, int64_t maxSplit)
{
    List parts;
    if (separator.isUndefined() || separator.isNone()) {
        for (std::string &part : pySplitWhitespace(s, maxSplit))
            parts.push_back(Value::string(std::move(part)));
        return parts;
    }
    if (!separator.isString() || separator.asString().empty())
        fail(ErrorCode::Format, "split: the separator must be a non-empty string");
    const std::string &sep = separator.asString();
    size_t pos = 0;
    for (size_t hit; (maxSplit < 0 || static_cast<int64_t>(parts.size()) < maxSplit) &&
                     (hit = s.find(sep, pos)) != std::string::npos;) {
        parts.push_back(Value::string(s.substr(pos, hit - pos)));
        pos = hit + sep.size();
    }
    parts.push_back(Value::string(s.substr(pos)));
    return parts;
}

bool affixMatches(const std::string &s, const Value &affix, bool prefix)
{
    if (affix.isList()) {
        for (const Value &a : affix.asList())
            if (affixMatches(s, a, prefix))
                return true;
        return false;
    }
    if (!affix.isString())
        fail(ErrorCode::Format, prefix ? "startswith" : "endswith", ": the argument must be a string, got ", affix.typeName());
    const std::string &a = affix.asString();
    return a.size() <= s.size() && s.compare(prefix ? 0 : s.size() - a.size(), a.size(), a) == 0;
}

List itemPairs(const Value &v)
{
    List out;
    if (v.isMapping())
        for (const auto &[k, value] : v.asDict())
            out.push_back(Value::list({Value::string(k), value}));
    else if (!v.isUndefined())
        fail(ErrorCode::Format, "items: a ", v.typeName(), " has no items");
    return out;
}

// An attribute path "a.b" or an index, as selectattr/map take them.
Value attributeOf(const Value &item, const std::string &path)
{
    Value v = item;
    size_t start = 0;
    while (start <= path.size()) {
        const size_t dot = std::min(path.find('.', start), path.size());
        const std::string part = path.substr(start, dot - start);
        if (v.isList() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
            const size_t index = std::stoul(part);
            v = index < v.asList().size() ? v.asList()[index] : Value::undefined(part);
        } else {
            v = v.get(part);
        }
        start = dot + 1;
    }
    return v;
}

CallArgs tail(const CallArgs &args, size_t from)
{
    CallArgs rest;
    for (size_t i = from; i < args.positional.size(); ++i)
        rest.positional.push_back(args.positional[i]);
    rest.named = args.named;
    return rest;
}

List selected(const Value &input, const CallArgs &args, bool byAttribute, bool keep)
{
    List out;
    const size_t testIndex = byAttribute ? 1 : 0;
    const std::string attribute = byAttribute ? textArgument(args, 0, "attribute", "selectattr") : "";
    const Value test = argument(args, testIndex, "test");
    const CallArgs testArgs = tail(args, testIndex + 1);
    for (const Value &item : input.iterate()) {
        const Value subject = byAttribute ? attributeOf(item, attribute) : item;
        const bool passes = test.isUndefined() ? subject.truthy() : applyTest(test.str(), subject, testArgs);
        if (passes == keep)
            out.push_back(item);
    }
    return out;
}

bool compareNumbers(const Value &a, const Value &b, const std::string &op)
{
    if (a.isNumber() && b.isNumber()) {
        const double x = a.asDouble(), y = b.asDouble();
        return op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y;
    }
    if (a.isString() && b.isString()) {
        const int c = a.asString().compare(b.asString());
        return op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    fail(ErrorCode::Format, "cannot compare a ", a.typeName(), " with a ", b.typeName());
}

} // namespace

Value applyFilter(const std::string &name, const Value &input, const CallArgs &args)
{
    if (name == "trim" || name == "strip") {
        const Value chars = argument(args, 0, "chars");
        return Value::string(pyStrip(input.str(), chars.isString() ? &chars.asString() : nullptr, true, true));
    }
    if (name == "length" || name == "count") {
        if (input.isString())
            return Value::integer(static_cast<int64_t>(utf8Characters(input.asString()).size()));
        if (input.isList())
            return Value::integer(static_cast<int64_t>(input.asList().size()));
        if (input.isMapping())
            return Value::integer(static_cast<int64_t>(input.asDict().size()));
        if (input.isUndefined())
            return Value::integer(0);
        fail(ErrorCode::Format, "length: a ", input.typeName(), " has no length");
    }
    if (name == "upper" || name == "lower")
        return Value::string(name == "upper" ? pyUpper(input.str()) : pyLower(input.str()));
    if (name == "capitalize")
        return Value::string(pyCapitalize(input.str()));
    if (name == "title")
        return Value::string(jinjaTitle(input.str()));
    if (name == "tojson") {
        const Value indent = argument(args, 0, "indent");
        return Value::string(toJsonText(input, indent.isNumber() ? static_cast<int>(indent.asInt()) : -1,
                                        argument(args, 1, "sort_keys").truthy()));
    }
    if (name == "default" || name == "d") {
        const bool boolean = argument(args, 1, "boolean").truthy();
        const bool useFallback = input.isUndefined() || (boolean && !input.truthy());
        return useFallback ? argument(args, 0, "default_value", Value::string("")) : input;
    }
    if (name == "first" || name == "last") {
        const List items = input.iterate();
        if (items.empty())
            return Value::undefined(name);
        return name == "first" ? items.front() : items.back();
    }
    if (name == "join") {
        const Value separator = argument(args, 0, "d", Value::string(""));
        const Value attribute = argument(args, 1, "attribute");
        std::string out;
        bool firstItem = true;
        for (const Value &item : input.iterate()) {
            out += (firstItem ? "" : separator.str()) + (attribute.isString() ? attributeOf(item, attribute.asString()) : item).str();
            firstItem = false;
        }
        return Value::string(out);
    }
    if (name == "replace")
        return Value::string(replaced(input.str(), textArgument(args, 0, "old", "replace"), textArgument(args, 1, "new", "replace"),
                                      intArgument(args, 2, "count", -1)));
    if (name == "list")
        return Value::list(input.iterate());
    if (name == "string" || name == "safe")
        return Value::string(input.str());
    if (name == "int" || name == "float") {
        const Value fallback = argument(args, 0, "default", name == "int" ? Value::integer(0) : Value::number(0));
        double number = 0;
        if (input.isNumber()) {
            number = input.asDouble();
        } else if (input.isString()) {
            const std::string text = pyStrip(input.asString(), nullptr, true, true);
            char *end = nullptr;
            number = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0')
                return fallback;
        } else {
            return fallback;
        }
        if (name == "float")
            return Value::number(number);
        return input.type() == Value::Type::Int ? input : Value::integer(static_cast<int64_t>(number));
    }
    if (name == "items")
        return Value::list(itemPairs(input));
    if (name == "selectattr" || name == "rejectattr")
        return Value::list(selected(input, args, true, name == "selectattr"));
    if (name == "select" || name == "reject")
        return Value::list(selected(input, args, false, name == "select"));
    if (name == "map") {
        List out;
        const Value attribute = argument(args, 99, "attribute");
        for (const Value &item : input.iterate()) {
            if (attribute.isString()) {
                const Value v = attributeOf(item, attribute.asString());
                out.push_back(v.isUndefined() ? argument(args, 99, "default", v) : v);
            } else {
                out.push_back(applyFilter(textArgument(args, 0, "filter", "map"), item, tail(args, 1)));
            }
        }
        return Value::list(out);
    }
    if (name == "reverse") {
        if (input.isString()) {
            auto chars = utf8Characters(input.asString());
            std::reverse(chars.begin(), chars.end());
            std::string out;
            for (const auto &c : chars)
                out += c;
            return Value::string(out);
        }
        List items = input.iterate();
        std::reverse(items.begin(), items.end());
        return Value::list(items);
    }
    if (name == "abs") {
        if (input.type() == Value::Type::Float)
            return Value::number(std::fabs(input.asDouble()));
        if (input.isNumber())
            return Value::integer(std::llabs(input.asInt()));
        fail(ErrorCode::Format, "abs: a ", input.typeName(), " is not a number");
    }
    fail(ErrorCode::Format, "unknown filter '", name, "'");
}

bool applyTest(const std::string &name, const Value &v, const CallArgs &args)
{
    using T = Value::Type;
    if (name == "defined")
        return !v.isUndefined();
    if (name == "undefined")
        return v.isUndefined();
    if (name == "none")
        return v.isNone();
    if (name == "string")
        return v.isString();
    if (name == "mapping")
        return v.isMapping();
    if (name == "iterable")
        return v.isIterable() || v.isUndefined();
    if (name == "sequence")
        return v.isList() || v.isString() || v.isMapping();
    if (name == "number")
        return v.isNumber();
    if (name == "integer")
        return v.type() == T::Int;
    if (name == "float")
        return v.type() == T::Float;
    if (name == "boolean")
        return v.type() == T::Bool;
    if (name == "true" || name == "false")
        return v.type() == T::Bool && v.asBool() == (name == "true");
    if (name == "callable")
        return v.type() == T::Function;
    if (name == "odd" || name == "even") {
        if (v.type() != T::Int)
            fail(ErrorCode::Format, "test '", name, "': a ", v.typeName(), " is not an integer");
        return (((v.asInt() % 2) + 2) % 2 == 1) == (name == "odd");
    }
    if (name == "divisibleby") {
        const int64_t d = intArgument(args, 0, "num", 0);
        if (d == 0 || v.type() != T::Int)
            fail(ErrorCode::Format, "test 'divisibleby' needs an integer and a non-zero divisor");
        return v.asInt() % d == 0;
    }
    if (name == "lower" || name == "upper")
        return v.isString() && (name == "upper" ? pyIsUpper(v.asString()) : pyIsLower(v.asString()));
    const Value other = argument(args, 0, "other");
    if (name == "equalto" || name == "eq" || name == "==" || name == "sameas")
        return equals(v, other);
    if (name == "ne" || name == "!=")
        return !equals(v, other);
    if (name == "lt" || name == "<" || name == "lessthan")
        return compareNumbers(v, other, "<");
    if (name == "le" || name == "<=")
        return compareNumbers(v, other, "<=");
    if (name == "gt" || name == ">" || name == "greaterthan")
        return compareNumbers(v, other, ">");
    if (name == "ge" || name == ">=")
        return compareNumbers(v, other, ">=");
    if (name == "in") {
        const Value container = argument(args, 0, "seq");
        if (container.isString())
            return v.isString() && container.asString().find(v.asString()) != std::string::npos;
        if (container.isMapping())
            return v.isString() && container.hasKey(v.asString());
        for (const Value &item : container.iterate())
            if (equals(item, v))
                return true;
        return false;
    }
    fail(ErrorCode::Format, "unknown test '", name, "'");
}

Value callMethod(const Value &object, const std::string &name, const CallArgs &args)
{
    if (object.isString()) {
        const std::string &s = object.asString();
        if (name == "strip" || name == "lstrip" || name == "rstrip") {
            const Value chars = argument(args, 0, "chars");
            if (!chars.isString() && !chars.isUndefined() && !chars.isNone())
                fail(ErrorCode::Format, name, ": the 'chars' argument must be a string or None, got ", chars.typeName());
            return Value::string(pyStrip(s, chars.isString() ? &chars.asString() : nullptr, name != "rstrip",
                                         name != "lstrip"));
        }
        if (name == "split")
            return Value::list(split(s, argument(args, 0, "sep"), intArgument(args, 1, "maxsplit", -1)));
        if (name == "startswith" || name == "endswith")
            return Value::boolean(affixMatches(s, argument(args, 0, "prefix"), name == "startswith"));
        if (name == "upper" || name == "lower")
            return Value::string(name == "upper" ? pyUpper(s) : pyLower(s));
        if (name == "title")
            return Value::string(pyTitle(s));
        if (name == "capitalize")
            return Value::string(pyCapitalize(s));
        if (name == "isspace") {
            const std::string stripped = pyStrip(s, nullptr, true, true);
            return Value::boolean(!s.empty() && stripped.empty());
        }
        if (name == "islower" || name == "isupper")
            return Value::boolean(name == "islower" ? pyIsLower(s) : pyIsUpper(s));
        if (name == "replace")
            return Value::string(replaced(s, textArgument(args, 0, "old", "replace"), textArgument(args, 1, "new", "replace"),
                                          intArgument(args, 2, "count", -1)));
        if (name == "find") {
            const size_t hit = s.find(textArgument(args, 0, "sub", "find"));
            return Value::integer(hit == std::string::npos ? -1 : static_cast<int64_t>(hit));
        }
        if (name == "join") {
            std::string out;
            bool firstItem = true;
            for (const Value &item : argument(args, 0, "iterable").iterate()) {
                out += (firstItem ? "" : s) + item.str();
                firstItem = false;
            }
            return Value::string(out);
        }
    } else if (object.isMapping()) {
        if (name == "items")
            return Value::list(itemPairs(object));
        if (name == "keys")
            return Value::list(object.iterate());
        if (name == "values") {
            List values;
            for (const auto &entry : object.asDict())
                values.push_back(entry.second);
            return Value::list(values);
        }
        if (name == "get") {
            const Value key = argument(args, 0, "key");
            const Value found = key.isString() ? object.get(key.asString()) : Value::undefined();
            return found.isUndefined() ? argument(args, 1, "default", Value::none()) : found;
        }
    } else if (object.isUndefined()) {
        fail(ErrorCode::Format, "'", object.asString().empty() ? std::string("value") : object.asString(),
             "' is undefined (cannot call ", name, "())");
    }
    fail(ErrorCode::Format, "a ", object.typeName(), " has no method '", name, "'");
}

Dict globalFunctions()
{
    Dict globals;
    globals.emplace_back("range", Value::function("range", [](const CallArgs &args) {
        int64_t start = 0, stop = 0, step = 1;
        if (args.positional.size() == 1) {
            stop = intArgument(args, 0, "stop", 0);
        } else if (args.positional.size() >= 2) {
            start = intArgument(args, 0, "start", 0);
            stop = intArgument(args, 1, "stop", 0);
            step = intArgument(args, 2, "step", 1);
        } else {
            fail(ErrorCode::Format, "range() needs 1 to 3 integer arguments");
        }
        if (step == 0)
            fail(ErrorCode::Format, "range() step must not be zero");
        List out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (out.size() >= kMaxListItems)
                fail(ErrorCode::Format, "range() is longer than a chat template may build (", kMaxListItems, " items)");
            out.push_back(Value::integer(i));
        }
        return Value::list(out);
    }));
    const auto keywordDict = [](const CallArgs &args) {
        Dict items;
        for (const Value &positional : args.positional)
            if (positional.isMapping())
                items.insert(items.end(), positional.asDict().begin(), positional.asDict().end());
        items.insert(items.end(), args.named.begin(), args.named.end());
        return items;
    };
    globals.emplace_back("namespace", Value::function("namespace", [keywordDict](const CallArgs &args) {
        return Value::makeNamespace(keywordDict(args));
    }));
    globals.emplace_back("dict", Value::function("dict", [keywordDict](const CallArgs &args) {
        return Value::dict(keywordDict(args));
    }));
    globals.emplace_back("raise_exception", Value::function("raise_exception", [](const CallArgs &args) -> Value {
        throw Error(ErrorCode::InvalidArgument, args.positional.empty() ? std::string("the chat template raised an error")
                                                                        : args.positional[0].str());
    }));
    globals.emplace_back("strftime_now", Value::function("strftime_now", [](const CallArgs &args) {
        const std::string format = textArgument(args, 0, "format", "strftime_now");
        const std::time_t now = std::time(nullptr);
        std::tm local{};
        localtime_r(&now, &local);
        char buffer[256];
        const size_t n = std::strftime(buffer, sizeof buffer, format.c_str(), &local);
        return Value::string(std::string(buffer, n));
    }));
    return globals;
}

} // namespace awq::chat::jinja
