#pragma once
// The values a chat template computes with: Python's types as Jinja sees them (none,
// bool, int, float, str, list, dict), plus Jinja's undefined, namespace() objects and
// callables. Lists and dicts are immutable and shared on copy; a namespace is mutable and
// shared by reference, as in Python. Dicts keep insertion order.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace awq::chat::jinja {

// A chat template comes from a model folder, so it is untrusted: what it may build is
// bounded (Error(Format) beyond). Real templates render a few kilobytes.
inline constexpr size_t kMaxStringBytes = 16u << 20; // any string value, and the output
inline constexpr size_t kMaxListItems = 100000;      // any list (range() included)

class Value;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>;

struct CallArgs
{
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> named;
};
using Function = std::function<Value(const CallArgs &)>;

class Value
{
public:
    enum class Type { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Function };

    Value() = default; // undefined
    static Value undefined(std::string name = {});
    static Value none();
    static Value boolean(bool b);
    static Value integer(int64_t i);
    static Value number(double d);
    static Value string(std::string s);
    static Value list(List items);
    static Value dict(Dict items);
    static Value makeNamespace(Dict items);
    static Value function(std::string name, Function fn);
    static Value fromJson(const nlohmann::json &json);
    static Value fromJson(const nlohmann::ordered_json &json); // keeps the key order

    Type type() const { return m_type; }
    bool isUndefined() const { return m_type == Type::Undefined; }
    bool isNone() const { return m_type == Type::None; }
    bool isString() const { return m_type == Type::String; }
    bool isNumber() const { return m_type == Type::Int || m_type == Type::Float || m_type == Type::Bool; }
    bool isMapping() const { return m_type == Type::Dict || m_type == Type::Namespace; }
    bool isList() const { return m_type == Type::List; }
    bool isIterable() const { return isList() || isMapping() || isString(); }

    bool asBool() const { return m_bool; }
    int64_t asInt() const; // bool and int
    double asDouble() const; // bool, int and float
    const std::string &asString() const { return m_string; } // also the undefined name and the function name
    const List &asList() const;
    const Dict &asDict() const; // dicts and namespaces
    const Function &asFunction() const;

    // A dict's or namespace's entry; undefined when missing.
    Value get(const std::string &key) const;
    bool hasKey(const std::string &key) const;
    // Namespaces only.
    void setAttribute(const std::string &key, Value value) const;

    bool truthy() const;
    // Python's str() and repr().
    std::string str() const;
    std::string repr() const;
    // The elements a for loop visits: a list's items, a dict's keys, a string's characters.
    List iterate() const;
    const char *typeName() const;

private:
    Type m_type = Type::Undefined;
    bool m_bool = false;
    int64_t m_int = 0;
    double m_double = 0;
    std::string m_string;
    std::shared_ptr<const List> m_list;
    std::shared_ptr<Dict> m_dict;
    std::shared_ptr<const Function> m_function;
};

// Python's ==.
bool equals(const Value &a, const Value &b);
// Python's float repr: the shortest text that reads back to the same double ("1.0", "0.1").
std::string formatDouble(double d);
// HF's tojson: json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sortKeys);
// indent < 0 means one line with ", " and ": " separators.
std::string toJsonText(const Value &value, int indent, bool sortKeys);
// UTF-8 aware: splits a string into its code points (each as a string).
std::vector<std::string> utf8Characters(const std::string &s);

} // namespace awq::chat::jinja
