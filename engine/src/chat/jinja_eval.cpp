#include "jinja_eval.h"

#include <cmath>
#include <limits>
#include <unordered_map>

#include "awq/core/error.h"
#include "jinja_builtins.h"
#include "jinja_lexer.h"

namespace awq::chat::jinja {

namespace {

const char *const kPrefix = "chat template ";

[[noreturn]] void undefinedError(const Value &v)
{
    fail(ErrorCode::Format, "'", v.asString().empty() ? std::string("value") : v.asString(), "' is undefined");
}

int64_t floorDiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

Value arithmetic(const std::string &op, const Value &a, const Value &b)
{
    using T = Value::Type;
    if (op == "+" && a.isString() && b.isString())
        return Value::string(a.asString() + b.asString());
    if (op == "+" && a.isList() && b.isList()) {
        List items = a.asList();
        items.insert(items.end(), b.asList().begin(), b.asList().end());
        return Value::list(items);
    }
    if (op == "*" && (a.isString() || a.isList()) && b.type() == T::Int) {
        // Checked before anything is built: 'x' * 10**9 must not allocate a gigabyte first.
        const uint64_t unit = a.isString() ? a.asString().size() : a.asList().size();
        const uint64_t limit = a.isString() ? kMaxStringBytes : kMaxListItems;
        if (b.asInt() > 0 && unit > 0 && static_cast<uint64_t>(b.asInt()) > limit / unit)
            fail(ErrorCode::Format, "repeating a ", a.typeName(), " of ", unit, a.isString() ? " bytes " : " items ",
                 b.asInt(), " times is more than a chat template may build");
        if (a.isString()) {
            std::string out;
            for (int64_t i = 0; i < b.asInt(); ++i)
                out += a.asString();
            return Value::string(out);
        }
        List out;
        for (int64_t i = 0; i < b.asInt(); ++i)
            out.insert(out.end(), a.asList().begin(), a.asList().end());
        return Value::list(out);
    }
    if (op == "*" && a.type() == T::Int && (b.isString() || b.isList()))
        return arithmetic(op, b, a);
    if (!a.isNumber() || !b.isNumber()) {
        if (a.isUndefined())
            undefinedError(a);
        if (b.isUndefined())
            undefinedError(b);
        fail(ErrorCode::Format, "unsupported operand types for ", op, ": ", a.typeName(), " and ", b.typeName());
    }
    const bool integers = a.type() != T::Float && b.type() != T::Float;
    if ((op == "/" || op == "//" || op == "%") && b.asDouble() == 0)
        fail(ErrorCode::Format, "division by zero");
    if (integers) {
        // Python's integers do not overflow; a chat template has no use for 64-bit ones
        // that do, so they are refused (found by fuzz_chat_template: 2^63 - 1 + 1).
        const int64_t x = a.asInt(), y = b.asInt();
        int64_t r = 0;
        auto checked = [&](bool overflowed) {
            if (overflowed)
                fail(ErrorCode::Format, "integer overflow in ", x, " ", op, " ", y);
            return Value::integer(r);
        };
        if (op == "+") return checked(__builtin_add_overflow(x, y, &r));
        if (op == "-") return checked(__builtin_sub_overflow(x, y, &r));
        if (op == "*") return checked(__builtin_mul_overflow(x, y, &r));
        if (op == "/") return Value::number(static_cast<double>(x) / static_cast<double>(y));
        if ((op == "//" || op == "%") && x == std::numeric_limits<int64_t>::min() && y == -1)
            return checked(true);
        if (op == "//") return Value::integer(floorDiv(x, y));
        if (op == "%") return Value::integer(x - floorDiv(x, y) * y);
        if (op == "**" && y >= 0) {  // by squaring: 64 steps at most
            int64_t base = x, e = y;
            bool overflowed = false;
            r = 1;
            while (e > 0 && !overflowed) {
                if (e & 1)
                    overflowed = __builtin_mul_overflow(r, base, &r);
                e >>= 1;
                if (e > 0 && !overflowed)
                    overflowed = __builtin_mul_overflow(base, base, &base);
            }
            return checked(overflowed);
        }
    }
    const double x = a.asDouble(), y = b.asDouble();
    if (op == "+") return Value::number(x + y);
    if (op == "-") return Value::number(x - y);
    if (op == "*") return Value::number(x * y);
    if (op == "/") return Value::number(x / y);
    if (op == "//") return Value::number(std::floor(x / y));
    if (op == "%") {
        double r = std::fmod(x, y);
        if (r != 0 && ((r < 0) != (y < 0)))
            r += y;
        return Value::number(r);
    }
    return Value::number(std::pow(x, y));
}

bool ordered(const std::string &op, const Value &a, const Value &b)
{
    CallArgs other;
    other.positional.push_back(b);
    return applyTest(op, a, other);
}

bool contains(const Value &container, const Value &item)
{
    if (container.isUndefined() || container.isNone())
        return false;
    if (!container.isIterable())
        fail(ErrorCode::Format, "'in' needs a string, list or dict on the right, got ", container.typeName());
    CallArgs args;
    args.positional.push_back(container);
    return applyTest("in", item, args);
}

// Python's slice of `size` elements: the indices it selects.
std::vector<size_t> sliceIndices(int64_t size, const Value &startV, const Value &stopV, const Value &stepV)
{
    const auto given = [](const Value &v) { return !v.isUndefined() && !v.isNone(); };
    const int64_t step = given(stepV) ? stepV.asInt() : 1;
    if (step == 0)
        fail(ErrorCode::Format, "slice step cannot be zero");
    const auto clamp = [&](const Value &v, int64_t fallback, int64_t low, int64_t high) {
        if (!given(v))
            return fallback;
        if (!v.isNumber())
            fail(ErrorCode::Format, "slice indices must be integers, got ", v.typeName());
        int64_t x = v.asInt();
        if (x < 0)
            x += size;
        return std::max(low, std::min(high, x));
    };
    const int64_t start = step > 0 ? clamp(startV, 0, 0, size) : clamp(startV, size - 1, -1, size - 1);
    const int64_t stop = step > 0 ? clamp(stopV, size, 0, size) : clamp(stopV, -1, -1, size - 1);
    std::vector<size_t> out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
        out.push_back(static_cast<size_t>(i));
    return out;
}

class Renderer
{
public:
    explicit Renderer(const Dict &variables)
    {
        m_frames.emplace_back();
        for (auto &[name, value] : globalFunctions())
            m_frames.back()[name] = value;
        for (const auto &[name, value] : variables)
            m_frames.back()[name] = value;
    }

    std::string run(const Body &body)
    {
        exec(body);
        return std::move(m_out);
    }

private:
    enum class Flow { Normal, Break, Continue };

    // Bounds on the work an untrusted template may do: statements run and loop iterations
    // (an endless or enormous loop), and nesting of evaluation (a macro calling itself would
    // otherwise overflow the stack). Real templates stay in the hundreds of steps and a
    // nesting of about ten.
    static constexpr int64_t kMaxSteps = 500000;
    static constexpr int kMaxNesting = 400;

    struct NestingGuard
    {
        explicit NestingGuard(Renderer &r) : renderer(r)
        {
            if (++renderer.m_nesting > kMaxNesting)
                fail(ErrorCode::Format, "evaluation nests deeper than ", kMaxNesting,
                     " levels (a macro that calls itself without end?)");
        }
        ~NestingGuard() { --renderer.m_nesting; }
        NestingGuard(const NestingGuard &) = delete;
        NestingGuard &operator=(const NestingGuard &) = delete;
        Renderer &renderer;
    };

    void step()
    {
        if (++m_steps > kMaxSteps)
            fail(ErrorCode::Format, "the template takes more than ", kMaxSteps,
                 " steps to render (an endless or enormous loop?)");
    }

    void emit(const std::string &text)
    {
        if (m_out.size() + text.size() > kMaxStringBytes)
            fail(ErrorCode::Format, "the rendered prompt would be longer than ", kMaxStringBytes, " bytes");
        m_out += text;
    }

    struct FrameGuard
    {
        explicit FrameGuard(Renderer &r) : renderer(r) { renderer.m_frames.emplace_back(); }
        ~FrameGuard() { renderer.m_frames.pop_back(); }
        FrameGuard(const FrameGuard &) = delete;
        FrameGuard &operator=(const FrameGuard &) = delete;
        Renderer &renderer;
    };

    Value lookup(const std::string &name) const
    {
        for (auto frame = m_frames.rbegin(); frame != m_frames.rend(); ++frame) {
            const auto it = frame->find(name);
            if (it != frame->end())
                return it->second;
        }
        return Value::undefined(name);
    }

    void assign(const std::string &name, Value value) { m_frames.back()[name] = std::move(value); }

    // Runs `f`; a Format error without a position gets this node's line and column.
    template <typename F>
    auto located(int line, int column, F &&f)
    {
        try {
            return f();
        } catch (const Error &e) {
            const std::string what = e.what();
            if (e.code() != ErrorCode::Format || what.rfind(kPrefix, 0) == 0)
                throw;
            fail(ErrorCode::Format, kPrefix, describePosition(line, column), ": ", what);
        }
    }

    std::string capture(const Body &body)
    {
        std::string saved;
        std::swap(saved, m_out);
        exec(body);
        std::swap(saved, m_out);
        return saved;
    }

    Flow exec(const Body &body)
    {
        NestingGuard nesting(*this);
        for (const StmtPtr &s : body) {
            step();
            const Flow flow = located(s->line, s->column, [&] { return execOne(*s); });
            if (flow != Flow::Normal)
                return flow;
        }
        return Flow::Normal;
    }

    void bindTargets(const std::vector<std::string> &targets, const Value &item)
    {
        if (targets.size() == 1) {
            assign(targets[0], item);
            return;
        }
        if (!item.isList() || item.asList().size() != targets.size())
            fail(ErrorCode::Format, "cannot unpack a ", item.typeName(), " into ", targets.size(), " loop variables");
        for (size_t i = 0; i < targets.size(); ++i)
            assign(targets[i], item.asList()[i]);
    }

    Flow execFor(const Stmt &s)
    {
        const Value iterable = eval(*s.expr);
        if (!iterable.isIterable() && !iterable.isUndefined())
            fail(ErrorCode::Format, "a ", iterable.typeName(), " is not iterable");
        List items = iterable.iterate();
        {
            FrameGuard frame(*this);
            if (s.filter) {
                List kept;
                for (const Value &item : items) {
                    step();
                    bindTargets(s.targets, item);
                    if (eval(*s.filter).truthy())
                        kept.push_back(item);
                }
                items = std::move(kept);
            }
            const auto n = static_cast<int64_t>(items.size());
            for (int64_t i = 0; i < n; ++i) {
                step();
                bindTargets(s.targets, items[static_cast<size_t>(i)]);
                assign("loop", Value::dict({{"index", Value::integer(i + 1)},
                                            {"index0", Value::integer(i)},
                                            {"revindex", Value::integer(n - i)},
                                            {"revindex0", Value::integer(n - i - 1)},
                                            {"first", Value::boolean(i == 0)},
                                            {"last", Value::boolean(i == n - 1)},
                                            {"length", Value::integer(n)},
                                            {"previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("previtem")},
                                            {"nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("nextitem")}}));
                if (exec(s.bodies[0]) == Flow::Break)
                    break;
            }
        }
        if (items.empty() && s.bodies.size() > 1)
            return exec(s.bodies[1]);
        return Flow::Normal;
    }

    Value callMacro(const Stmt &macro, const CallArgs &args)
    {
        if (args.positional.size() > macro.targets.size())
            fail(ErrorCode::Format, "macro '", macro.text, "' takes ", macro.targets.size(), " arguments, got ", args.positional.size());
        FrameGuard frame(*this);
        for (size_t i = 0; i < macro.targets.size(); ++i) {
            Value v = i < args.positional.size() ? args.positional[i] : Value::undefined(macro.targets[i]);
            for (const auto &[key, value] : args.named)
                if (key == macro.targets[i])
                    v = value;
            if (v.isUndefined() && macro.defaults[i])
                v = eval(*macro.defaults[i]);
            assign(macro.targets[i], v);
        }
        return Value::string(capture(macro.bodies[0]));
    }

    Flow execOne(const Stmt &s)
    {
        switch (s.kind) {
        case Stmt::Kind::Text: emit(s.text); return Flow::Normal;
        case Stmt::Kind::Output: emit(eval(*s.expr).str()); return Flow::Normal;
        case Stmt::Kind::If:
            for (size_t i = 0; i < s.conditions.size(); ++i)
                if (eval(*s.conditions[i]).truthy())
                    return exec(s.bodies[i]);
            return s.bodies.size() > s.conditions.size() ? exec(s.bodies.back()) : Flow::Normal;
        case Stmt::Kind::For: return execFor(s);
        case Stmt::Kind::Set:
            if (!s.attribute.empty()) {
                const Value target = lookup(s.targets[0]);
                if (target.type() != Value::Type::Namespace)
                    fail(ErrorCode::Format, "cannot set '", s.attribute, "' on a ", target.typeName(), " (only on a namespace())");
                target.setAttribute(s.attribute, eval(*s.expr));
            } else {
                assign(s.targets[0], eval(*s.expr));
            }
            return Flow::Normal;
        case Stmt::Kind::SetBlock: assign(s.targets[0], Value::string(capture(s.bodies[0]))); return Flow::Normal;
        case Stmt::Kind::Macro:
            assign(s.text, Value::function(s.text, [this, &s](const CallArgs &args) { return callMacro(s, args); }));
            return Flow::Normal;
        case Stmt::Kind::Break: return Flow::Break;
        case Stmt::Kind::Continue: return Flow::Continue;
        case Stmt::Kind::Scope: return exec(s.bodies[0]);
        }
        return Flow::Normal;
    }

    CallArgs evalArguments(const Expr &e)
    {
        CallArgs args;
        for (const ExprPtr &item : e.items)
            args.positional.push_back(eval(*item));
        for (const auto &[key, value] : e.named)
            args.named.emplace_back(key, eval(*value));
        return args;
    }

    Value eval(const Expr &e)
    {
        NestingGuard nesting(*this);
        return located(e.line, e.column, [&] { return evalInner(e); });
    }

    Value subscript(const Value &base, const Value &index)
    {
        if (base.isList() || base.isString()) {
            if (index.type() != Value::Type::Int && index.type() != Value::Type::Bool)
                return Value::undefined();
            const List items = base.isList() ? base.asList() : base.iterate();
            int64_t i = index.asInt();
            if (i < 0)
                i += static_cast<int64_t>(items.size());
            return i >= 0 && i < static_cast<int64_t>(items.size()) ? items[static_cast<size_t>(i)] : Value::undefined();
        }
        if (base.isMapping())
            return base.get(index.str());
        return Value::undefined(index.str());
    }

    Value evalCall(const Expr &e)
    {
        if (e.object->kind == Expr::Kind::Attribute) {
            const Value base = eval(*e.object->object);
            const Value member = base.isMapping() ? base.get(e.object->name) : Value::undefined();
            if (member.type() == Value::Type::Function)
                return member.asFunction()(evalArguments(e));
            return callMethod(base, e.object->name, evalArguments(e));
        }
        const Value callee = eval(*e.object);
        if (callee.isUndefined())
            fail(ErrorCode::Format, "'", callee.asString().empty() ? std::string("value") : callee.asString(),
                 "' is undefined and cannot be called");
        if (callee.type() != Value::Type::Function)
            fail(ErrorCode::Format, "a ", callee.typeName(), " cannot be called");
        return callee.asFunction()(evalArguments(e));
    }

    Value evalBinary(const Expr &e)
    {
        const std::string &op = e.name;
        const Value left = eval(*e.object);
        if (op == "and")
            return left.truthy() ? eval(*e.items[0]) : left;
        if (op == "or")
            return left.truthy() ? left : eval(*e.items[0]);
        const Value right = eval(*e.items[0]);
        if (op == "==")
            return Value::boolean(equals(left, right));
        if (op == "!=")
            return Value::boolean(!equals(left, right));
        if (op == "<" || op == ">" || op == "<=" || op == ">=")
            return Value::boolean(ordered(op, left, right));
        if (op == "in")
            return Value::boolean(contains(right, left));
        if (op == "not in")
            return Value::boolean(!contains(right, left));
        if (op == "~")
            return Value::string(left.str() + right.str());
        return arithmetic(op, left, right);
    }

    Value evalInner(const Expr &e)
    {
        switch (e.kind) {
        case Expr::Kind::Literal: return e.value;
        case Expr::Kind::Name: return lookup(e.name);
        case Expr::Kind::List: {
            List items;
            for (const ExprPtr &item : e.items)
                items.push_back(eval(*item));
            return Value::list(std::move(items));
        }
        case Expr::Kind::Dict: {
            Dict items;
            for (size_t i = 0; i + 1 < e.items.size(); i += 2)
                items.emplace_back(eval(*e.items[i]).str(), eval(*e.items[i + 1]));
            return Value::dict(std::move(items));
        }
        case Expr::Kind::Attribute: {
            const Value base = eval(*e.object);
            return base.isMapping() ? base.get(e.name) : Value::undefined(e.name);
        }
        case Expr::Kind::Subscript: return subscript(eval(*e.object), eval(*e.items[0]));
        case Expr::Kind::Slice: {
            const Value base = eval(*e.object);
            const Value start = e.start ? eval(*e.start) : Value::undefined();
            const Value stop = e.stop ? eval(*e.stop) : Value::undefined();
            const Value step = e.step ? eval(*e.step) : Value::undefined();
            if (!base.isList() && !base.isString())
                return base.isUndefined() ? base : Value::undefined();
            const List items = base.isList() ? base.asList() : base.iterate();
            List picked;
            for (size_t i : sliceIndices(static_cast<int64_t>(items.size()), start, stop, step))
                picked.push_back(items[i]);
            if (base.isList())
                return Value::list(std::move(picked));
            std::string text;
            for (const Value &c : picked)
                text += c.asString();
            return Value::string(std::move(text));
        }
        case Expr::Kind::Call: return evalCall(e);
        case Expr::Kind::Filter: return applyFilter(e.name, eval(*e.object), evalArguments(e));
        case Expr::Kind::Test: return Value::boolean(applyTest(e.name, eval(*e.object), evalArguments(e)) != e.negated);
        case Expr::Kind::Unary: {
            const Value v = eval(*e.object);
            if (e.name == "not")
                return Value::boolean(!v.truthy());
            if (!v.isNumber())
                v.isUndefined() ? undefinedError(v) : fail(ErrorCode::Format, "bad operand for unary ", e.name, ": ", v.typeName());
            if (e.name == "+")
                return v.type() == Value::Type::Bool ? Value::integer(v.asInt()) : v;
            if (v.type() != Value::Type::Float && v.asInt() == std::numeric_limits<int64_t>::min())
                fail(ErrorCode::Format, "integer overflow in -(", v.asInt(), ")");
            return v.type() == Value::Type::Float ? Value::number(-v.asDouble()) : Value::integer(-v.asInt());
        }
        case Expr::Kind::Binary: return evalBinary(e);
        case Expr::Kind::Ternary:
            if (eval(*e.object).truthy())
                return eval(*e.items[0]);
            return e.items[1] ? eval(*e.items[1]) : Value::undefined();
        }
        return Value::undefined();
    }

    std::vector<std::unordered_map<std::string, Value>> m_frames;
    std::string m_out;
    int64_t m_steps = 0;
    int m_nesting = 0;
};

} // namespace

std::string renderTemplate(const Body &body, const Dict &variables)
{
    return Renderer(variables).run(body);
}

} // namespace awq::chat::jinja
