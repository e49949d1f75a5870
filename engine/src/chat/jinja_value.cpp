#include "jinja_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"

namespace awq::chat::jinja {

Value Value::undefined(std::string name)
{
    Value v;
    v.m_string = std::move(name);
    return v;
}

Value Value::none()
{
    Value v;
    v.m_type = Type::None;
    return v;
}

Value Value::boolean(bool b)
{
    Value v;
    v.m_type = Type::Bool;
    v.m_bool = b;
    return v;
}

Value Value::integer(int64_t i)
{
    Value v;
    v.m_type = Type::Int;
    v.m_int = i;
    return v;
}

Value Value::number(double d)
{
    Value v;
    v.m_type = Type::Float;
    v.m_double = d;
    return v;
}

Value Value::string(std::string s)
{
    if (s.size() > kMaxStringBytes)
        fail(ErrorCode::Format, "a string of ", s.size(), " bytes is longer than a chat template may build (",
             kMaxStringBytes, ")");
    Value v;
    v.m_type = Type::String;
    v.m_string = std::move(s);
    return v;
}

Value Value::list(List items)
{
    if (items.size() > kMaxListItems)
        fail(ErrorCode::Format, "a list of ", items.size(), " items is longer than a chat template may build (",
             kMaxListItems, ")");
    Value v;
    v.m_type = Type::List;
    v.m_list = std::make_shared<const List>(std::move(items));
    return v;
}

Value Value::dict(Dict items)
{
    Value v;
    v.m_type = Type::Dict;
    v.m_dict = std::make_shared<Dict>(std::move(items));
    return v;
}

Value Value::makeNamespace(Dict items)
{
    Value v = dict(std::move(items));
    v.m_type = Type::Namespace;
    return v;
}

Value Value::function(std::string name, Function fn)
{
    Value v;
    v.m_type = Type::Function;
    v.m_string = std::move(name);
    v.m_function = std::make_shared<const Function>(std::move(fn));
    return v;
}

namespace {

template <typename Json>
Value valueFromJson(const Json &json)
{
    switch (json.type()) {
    case Json::value_t::null:
        return Value::none();
    case Json::value_t::boolean:
        return Value::boolean(json.template get<bool>());
    case Json::value_t::number_integer:
        return Value::integer(json.template get<int64_t>());
    case Json::value_t::number_unsigned:
        return Value::integer(static_cast<int64_t>(json.template get<uint64_t>()));
    case Json::value_t::number_float:
        return Value::number(json.template get<double>());
    case Json::value_t::string:
        return Value::string(json.template get<std::string>());
    case Json::value_t::array: {
        List items;
        for (const auto &item : json)
            items.push_back(valueFromJson(item));
        return Value::list(std::move(items));
    }
    case Json::value_t::object: {
        Dict items;
        for (auto it = json.begin(); it != json.end(); ++it)
            items.emplace_back(it.key(), valueFromJson(it.value()));
        return Value::dict(std::move(items));
    }
    default:
        return Value::none();
    }
}

} // namespace

Value Value::fromJson(const nlohmann::json &json)
{
    return valueFromJson(json);
}

Value Value::fromJson(const nlohmann::ordered_json &json)
{
    return valueFromJson(json);
}

int64_t Value::asInt() const
{
    return m_type == Type::Bool ? (m_bool ? 1 : 0) : m_type == Type::Float ? static_cast<int64_t>(m_double) : m_int;
}

double Value::asDouble() const
{
    return m_type == Type::Float ? m_double : static_cast<double>(asInt());
}

const List &Value::asList() const
{
    AWQ_ASSERT(m_type == Type::List, "jinja value is not a list");
    return *m_list;
}

const Dict &Value::asDict() const
{
    AWQ_ASSERT(isMapping(), "jinja value is not a dict");
    return *m_dict;
}

const Function &Value::asFunction() const
{
    AWQ_ASSERT(m_type == Type::Function, "jinja value is not callable");
    return *m_function;
}

Value Value::get(const std::string &key) const
{
    if (isMapping())
        for (const auto &[k, v] : *m_dict)
            if (k == key)
                return v;
    return undefined(key);
}

bool Value::hasKey(const std::string &key) const
{
    if (isMapping())
        for (const auto &entry : *m_dict)
            if (entry.first == key)
                return true;
    return false;
}

void Value::setAttribute(const std::string &key, Value value) const
{
    AWQ_ASSERT(m_type == Type::Namespace, "attribute assignment on a non-namespace");
    for (auto &entry : *m_dict)
        if (entry.first == key) {
            entry.second = std::move(value);
            return;
        }
    m_dict->emplace_back(key, std::move(value));
}

bool Value::truthy() const
{
    switch (m_type) {
    case Type::Undefined:
    case Type::None:
        return false;
    case Type::Bool:
        return m_bool;
    case Type::Int:
        return m_int != 0;
    case Type::Float:
        return m_double != 0.0;
    case Type::String:
        return !m_string.empty();
    case Type::List:
        return !m_list->empty();
    case Type::Dict:
        return !m_dict->empty();
    case Type::Namespace:
    case Type::Function:
        return true;
    }
    return false;
}

std::string formatDouble(double d)
{
    if (std::isnan(d))
        return "nan";
    if (std::isinf(d))
        return d > 0 ? "inf" : "-inf";
    char buffer[40];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, d);
        if (std::strtod(buffer, nullptr) == d)
            break;
    }
    std::string text = buffer;
    if (text.find_first_of(".en") == std::string::npos)
        text += ".0";
    return text;
}

namespace {

std::string quotePython(const std::string &s)
{
    const char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
    std::string out(1, quote);
    for (char c : s) {
        if (c == quote || c == '\\')
            out += '\\';
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else
            out += c;
    }
    return out + quote;
}

void appendJsonString(std::string &out, const std::string &s)
{
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char buffer[8];
                std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                out += buffer;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

void appendJson(std::string &out, const Value &v, int indent, bool sortKeys, int depth)
{
    const auto newline = [&](int level) {
        if (indent >= 0) {
            out += '\n';
            out.append(static_cast<size_t>(indent * level), ' ');
        }
    };
    const char *itemSeparator = indent >= 0 ? "," : ", ";
    switch (v.type()) {
    case Value::Type::None: out += "null"; return;
    case Value::Type::Bool: out += v.asBool() ? "true" : "false"; return;
    case Value::Type::Int: out += std::to_string(v.asInt()); return;
    case Value::Type::Float:
        out += std::isfinite(v.asDouble()) ? formatDouble(v.asDouble()) : (std::isnan(v.asDouble()) ? "NaN" : v.asDouble() > 0 ? "Infinity" : "-Infinity");
        return;
    case Value::Type::String: appendJsonString(out, v.asString()); return;
    case Value::Type::List: {
        const List &items = v.asList();
        if (items.empty()) {
            out += "[]";
            return;
        }
        out += '[';
        for (size_t i = 0; i < items.size(); ++i) {
            if (i)
                out += itemSeparator;
            newline(depth + 1);
            appendJson(out, items[i], indent, sortKeys, depth + 1);
        }
        newline(depth);
        out += ']';
        return;
    }
    case Value::Type::Dict:
    case Value::Type::Namespace: {
        Dict items = v.asDict();
        if (items.empty()) {
            out += "{}";
            return;
        }
        if (sortKeys)
            std::stable_sort(items.begin(), items.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
        out += '{';
        for (size_t i = 0; i < items.size(); ++i) {
            if (i)
                out += itemSeparator;
            newline(depth + 1);
            appendJsonString(out, items[i].first);
            out += ": ";
            appendJson(out, items[i].second, indent, sortKeys, depth + 1);
        }
        newline(depth);
        out += '}';
        return;
    }
    case Value::Type::Undefined:
        fail(ErrorCode::Format, "tojson: '", v.asString().empty() ? "value" : v.asString(), "' is undefined");
    case Value::Type::Function:
        fail(ErrorCode::Format, "tojson: a function cannot be written as JSON");
    }
}

} // namespace

std::string Value::str() const
{
    switch (m_type) {
    case Type::Undefined: return "";
    case Type::None: return "None";
    case Type::Bool: return m_bool ? "True" : "False";
    case Type::Int: return std::to_string(m_int);
    case Type::Float: return formatDouble(m_double);
    case Type::String: return m_string;
    case Type::Function: return "<function " + m_string + ">";
    default: return repr();
    }
}

std::string Value::repr() const
{
    switch (m_type) {
    case Type::String: return quotePython(m_string);
    case Type::List: {
        std::string out = "[";
        for (size_t i = 0; i < m_list->size(); ++i)
            out += (i ? ", " : "") + (*m_list)[i].repr();
        return out + "]";
    }
    case Type::Dict:
    case Type::Namespace: {
        std::string out = m_type == Type::Namespace ? "<Namespace {" : "{";
        for (size_t i = 0; i < m_dict->size(); ++i)
            out += (i ? ", " : "") + quotePython((*m_dict)[i].first) + ": " + (*m_dict)[i].second.repr();
        return out + (m_type == Type::Namespace ? "}>" : "}");
    }
    default: return str();
    }
}

std::vector<std::string> utf8Characters(const std::string &s)
{
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        const auto lead = static_cast<unsigned char>(s[i]);
        size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
        length = std::min(length, s.size() - i);
        out.push_back(s.substr(i, length));
        i += length;
    }
    return out;
}

List Value::iterate() const
{
    switch (m_type) {
    case Type::List: return *m_list;
    case Type::Dict:
    case Type::Namespace: {
        List keys;
        for (const auto &entry : *m_dict)
            keys.push_back(string(entry.first));
        return keys;
    }
    case Type::String: {
        List chars;
        for (auto &c : utf8Characters(m_string))
            chars.push_back(string(std::move(c)));
        return chars;
    }
    default: return {};
    }
}

const char *Value::typeName() const
{
    switch (m_type) {
    case Type::Undefined: return "undefined";
    case Type::None: return "none";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::String: return "string";
    case Type::List: return "list";
    case Type::Dict: return "dict";
    case Type::Namespace: return "namespace";
    case Type::Function: return "function";
    }
    return "value";
}

bool equals(const Value &a, const Value &b)
{
    using T = Value::Type;
    if (a.isNumber() && b.isNumber())
        return (a.type() == T::Float || b.type() == T::Float) ? a.asDouble() == b.asDouble() : a.asInt() == b.asInt();
    if (a.type() != b.type())
        return false;
    switch (a.type()) {
    case T::Undefined:
    case T::None: return true;
    case T::String: return a.asString() == b.asString();
    case T::List: {
        const List &x = a.asList(), &y = b.asList();
        if (x.size() != y.size())
            return false;
        for (size_t i = 0; i < x.size(); ++i)
            if (!equals(x[i], y[i]))
                return false;
        return true;
    }
    case T::Dict: {
        const Dict &x = a.asDict();
        if (x.size() != b.asDict().size())
            return false;
        for (const auto &[k, v] : x)
            if (!b.hasKey(k) || !equals(v, b.get(k)))
                return false;
        return true;
    }
    case T::Namespace: return &a.asDict() == &b.asDict();
    case T::Function: return &a.asFunction() == &b.asFunction();
    default: return false;
    }
}

std::string toJsonText(const Value &value, int indent, bool sortKeys)
{
    std::string out;
    appendJson(out, value, indent, sortKeys, 0);
    return out;
}

} // namespace awq::chat::jinja
