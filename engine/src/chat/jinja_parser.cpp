#include "jinja_parser.h"

#include <algorithm>

#include "awq/core/error.h"

namespace awq::chat::jinja {

namespace {

using K = Token::Kind;

std::string describe(const Token &t)
{
    switch (t.kind) {
    case K::Text: return "text";
    case K::VariableBegin: return "'{{'";
    case K::VariableEnd: return "'}}'";
    case K::BlockBegin: return "'{%'";
    case K::BlockEnd: return "'%}'";
    case K::Name: return "'" + t.text + "'";
    case K::String: return "a string";
    case K::Integer:
    case K::Float: return "the number " + t.text;
    case K::Operator: return "'" + t.text + "'";
    case K::End: return "the end of the template";
    }
    return "a token";
}

class Parser
{
public:
    explicit Parser(const std::vector<Token> &tokens) : m_t(tokens) {}

    Body parseAll()
    {
        std::string found;
        Body body = parseUntil({}, nullptr, found);
        return body;
    }

private:
    const Token &cur() const { return m_t[m_i]; }
    const Token &peek(size_t ahead = 1) const { return m_t[std::min(m_i + ahead, m_t.size() - 1)]; }
    const Token &advance() { return m_t[m_i < m_t.size() - 1 ? m_i++ : m_i]; }
    bool isOp(const char *op) const { return cur().kind == K::Operator && cur().text == op; }
    bool isName(const char *name) const { return cur().kind == K::Name && cur().text == name; }

    // How deep the tree being built nests: statements inside statements, parentheses, and
    // chains such as a.b.c or 1 + 2 + 3, which nest to the left. An untrusted template is
    // refused beyond kMaxNesting, so that neither this parser nor the renderer (both
    // recursive) can overflow the stack. Real templates nest about ten deep.
    static constexpr int kMaxNesting = 200;
    class Nesting
    {
    public:
        explicit Nesting(Parser &parser) : m_parser(parser) {}
        ~Nesting() { m_parser.m_nesting -= m_levels; }
        Nesting(const Nesting &) = delete;
        Nesting &operator=(const Nesting &) = delete;
        void deeper()
        {
            ++m_levels;
            if (++m_parser.m_nesting > kMaxNesting)
                m_parser.error(m_parser.cur(), "the template nests deeper than " + std::to_string(kMaxNesting) + " levels");
        }

    private:
        Parser &m_parser;
        int m_levels = 0;
    };

    [[noreturn]] void error(const Token &at, const std::string &what) const
    {
        fail(ErrorCode::Format, "chat template ", describePosition(at.line, at.column), ": ", what);
    }
    [[noreturn]] void unexpected(const std::string &expected) const
    {
        error(cur(), "unexpected " + describe(cur()) + (expected.empty() ? "" : ", expected " + expected));
    }
    void expectOp(const char *op)
    {
        if (!isOp(op))
            unexpected(std::string("'") + op + "'");
        advance();
    }
    void expectBlockEnd()
    {
        if (cur().kind != K::BlockEnd)
            unexpected("'%}'");
        advance();
    }
    std::string expectName(const char *what)
    {
        if (cur().kind != K::Name)
            unexpected(what);
        return advance().text;
    }

    template <typename T>
    static std::unique_ptr<T> at(const Token &t)
    {
        auto node = std::make_unique<T>();
        node->line = t.line;
        node->column = t.column;
        return node;
    }

    // Statements up to (not including the rest of) a tag named in `ends`; `found` gets its name.
    Body parseUntil(const std::vector<std::string> &ends, const Token *opener, std::string &found)
    {
        Body body;
        for (;;) {
            const Token &t = cur();
            if (t.kind == K::End) {
                if (opener)
                    error(*opener, "the '" + opener->text + "' tag is never closed (missing '" + ends.back() + "')");
                return body;
            }
            if (t.kind == K::Text) {
                auto s = at<Stmt>(t);
                s->kind = Stmt::Kind::Text;
                s->text = t.text;
                body.push_back(std::move(s));
                advance();
            } else if (t.kind == K::VariableBegin) {
                auto s = at<Stmt>(t);
                advance();
                s->kind = Stmt::Kind::Output;
                s->expr = parseExpression();
                if (cur().kind != K::VariableEnd)
                    unexpected("'}}'");
                advance();
                body.push_back(std::move(s));
            } else if (t.kind == K::BlockBegin) {
                const Token &name = peek();
                if (name.kind == K::Name && std::find(ends.begin(), ends.end(), name.text) != ends.end()) {
                    advance();
                    found = advance().text;
                    return body;
                }
                advance();
                body.push_back(parseStatement());
            } else {
                unexpected("");
            }
        }
    }

    StmtPtr parseStatement()
    {
        Nesting nesting(*this);
        nesting.deeper();
        const Token &tag = cur();
        if (tag.kind != K::Name)
            unexpected("a tag name");
        const std::string name = advance().text;
        auto s = at<Stmt>(tag);
        std::string found;
        if (name == "if") {
            s->kind = Stmt::Kind::If;
            s->conditions.push_back(parseExpression());
            expectBlockEnd();
            for (;;) {
                s->bodies.push_back(parseUntil({"elif", "else", "endif"}, &tag, found));
                if (found == "elif") {
                    s->conditions.push_back(parseExpression());
                    expectBlockEnd();
                } else if (found == "else") {
                    expectBlockEnd();
                    s->bodies.push_back(parseUntil({"endif"}, &tag, found));
                    expectBlockEnd();
                    break;
                } else {
                    expectBlockEnd();
                    break;
                }
            }
        } else if (name == "for") {
            s->kind = Stmt::Kind::For;
            s->targets.push_back(expectName("a loop variable name"));
            while (isOp(",")) {
                advance();
                s->targets.push_back(expectName("a loop variable name"));
            }
            if (!isName("in"))
                unexpected("'in'");
            advance();
            s->expr = parseOr();
            if (isName("if")) {
                advance();
                s->filter = parseOr();
            }
            if (isName("recursive"))
                error(cur(), "recursive loops are not supported");
            expectBlockEnd();
            ++m_loopDepth;
            s->bodies.push_back(parseUntil({"else", "endfor"}, &tag, found));
            --m_loopDepth;
            if (found == "else") {
                expectBlockEnd();
                s->bodies.push_back(parseUntil({"endfor"}, &tag, found));
            }
            expectBlockEnd();
        } else if (name == "set") {
            s->targets.push_back(expectName("a variable name"));
            if (isOp(".")) {
                advance();
                s->attribute = expectName("an attribute name");
            }
            if (isOp("=")) {
                advance();
                s->kind = Stmt::Kind::Set;
                s->expr = parseExpression();
                expectBlockEnd();
            } else if (cur().kind == K::BlockEnd && s->attribute.empty()) {
                advance();
                s->kind = Stmt::Kind::SetBlock;
                s->bodies.push_back(parseUntil({"endset"}, &tag, found));
                expectBlockEnd();
            } else {
                unexpected("'='");
            }
        } else if (name == "macro") {
            s->kind = Stmt::Kind::Macro;
            s->text = expectName("a macro name");
            expectOp("(");
            while (!isOp(")")) {
                s->targets.push_back(expectName("a parameter name"));
                ExprPtr fallback;
                if (isOp("=")) {
                    advance();
                    fallback = parseExpression();
                }
                s->defaults.push_back(std::move(fallback));
                if (!isOp(")"))
                    expectOp(",");
            }
            advance();
            expectBlockEnd();
            const int loops = m_loopDepth;
            m_loopDepth = 0;
            s->bodies.push_back(parseUntil({"endmacro"}, &tag, found));
            m_loopDepth = loops;
            expectBlockEnd();
        } else if (name == "break" || name == "continue") {
            if (m_loopDepth == 0)
                error(tag, "'" + name + "' outside a for loop");
            s->kind = name == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue;
            expectBlockEnd();
        } else if (name == "generation") {
            s->kind = Stmt::Kind::Scope;
            expectBlockEnd();
            s->bodies.push_back(parseUntil({"endgeneration"}, &tag, found));
            expectBlockEnd();
        } else if (name == "endif" || name == "endfor" || name == "endset" || name == "endmacro" || name == "elif" ||
                   name == "else" || name == "endgeneration") {
            error(tag, "unexpected '" + name + "' (no matching open tag)");
        } else {
            error(tag, "unknown or unsupported tag '" + name + "'");
        }
        return s;
    }

    // ---- expressions, by rising precedence as in Jinja's parser ----

    ExprPtr parseExpression()
    {
        Nesting nesting(*this);
        nesting.deeper();
        ExprPtr e = parseOr();
        while (isName("if")) {
            nesting.deeper();
            auto t = at<Expr>(advance());
            t->kind = Expr::Kind::Ternary;
            t->object = parseOr();
            t->items.push_back(std::move(e));
            if (isName("else")) {
                advance();
                t->items.push_back(parseExpression());
            } else {
                t->items.push_back(nullptr);
            }
            e = std::move(t);
        }
        return e;
    }

    ExprPtr binary(const Token &op, std::string name, ExprPtr left, ExprPtr right)
    {
        auto b = at<Expr>(op);
        b->kind = Expr::Kind::Binary;
        b->name = std::move(name);
        b->object = std::move(left);
        b->items.push_back(std::move(right));
        return b;
    }

    ExprPtr parseOr()
    {
        Nesting nesting(*this);
        ExprPtr e = parseAnd();
        while (isName("or")) {
            nesting.deeper();
            const Token &op = advance();
            e = binary(op, "or", std::move(e), parseAnd());
        }
        return e;
    }

    ExprPtr parseAnd()
    {
        Nesting nesting(*this);
        ExprPtr e = parseNot();
        while (isName("and")) {
            nesting.deeper();
            const Token &op = advance();
            e = binary(op, "and", std::move(e), parseNot());
        }
        return e;
    }

    ExprPtr parseNot()
    {
        Nesting nesting(*this);
        if (isName("not")) {
            nesting.deeper();
            auto u = at<Expr>(advance());
            u->kind = Expr::Kind::Unary;
            u->name = "not";
            u->object = parseNot();
            return u;
        }
        return parseCompare();
    }

    ExprPtr parseCompare()
    {
        Nesting nesting(*this);
        ExprPtr e = parseMath1();
        for (;;) {
            nesting.deeper();
            const Token &op = cur();
            if (op.kind == K::Operator && (op.text == "==" || op.text == "!=" || op.text == "<" || op.text == ">" ||
                                           op.text == "<=" || op.text == ">=")) {
                advance();
                e = binary(op, op.text, std::move(e), parseMath1());
            } else if (isName("in")) {
                advance();
                e = binary(op, "in", std::move(e), parseMath1());
            } else if (isName("not") && peek().kind == K::Name && peek().text == "in") {
                advance();
                advance();
                e = binary(op, "not in", std::move(e), parseMath1());
            } else {
                return e;
            }
        }
    }

    template <typename Next>
    ExprPtr leftAssociative(std::initializer_list<const char *> ops, Next next)
    {
        Nesting nesting(*this);
        ExprPtr e = (this->*next)();
        for (;;) {
            const char *matched = nullptr;
            for (const char *op : ops)
                if (isOp(op))
                    matched = op;
            if (!matched)
                return e;
            nesting.deeper();
            const Token &op = advance();
            e = binary(op, matched, std::move(e), (this->*next)());
        }
    }

    ExprPtr parseMath1() { return leftAssociative({"+", "-"}, &Parser::parseConcat); }
    ExprPtr parseConcat() { return leftAssociative({"~"}, &Parser::parseMath2); }
    ExprPtr parseMath2() { return leftAssociative({"*", "/", "//", "%"}, &Parser::parsePow); }
    ExprPtr parsePow() { return leftAssociative({"**"}, &Parser::parseUnaryWithFilters); }
    ExprPtr parseUnaryWithFilters() { return parseUnary(true); }

    ExprPtr parseUnary(bool withFilters)
    {
        Nesting nesting(*this);
        ExprPtr e;
        if (isOp("-") || isOp("+")) {
            nesting.deeper();
            auto u = at<Expr>(cur());
            u->kind = Expr::Kind::Unary;
            u->name = advance().text;
            u->object = parseUnary(false);
            e = std::move(u);
        } else {
            e = parsePrimary();
        }
        e = parsePostfix(std::move(e));
        return withFilters ? parseFilters(std::move(e)) : std::move(e);
    }

    ExprPtr parsePrimary()
    {
        const Token &t = cur();
        auto e = at<Expr>(t);
        if (t.kind == K::Name) {
            advance();
            if (t.text == "true" || t.text == "True" || t.text == "false" || t.text == "False")
                e->value = Value::boolean(t.text[0] == 't' || t.text[0] == 'T');
            else if (t.text == "none" || t.text == "None")
                e->value = Value::none();
            else {
                e->kind = Expr::Kind::Name;
                e->name = t.text;
            }
        } else if (t.kind == K::String) {
            std::string s;
            while (cur().kind == K::String)
                s += advance().text;
            e->value = Value::string(std::move(s));
        } else if (t.kind == K::Integer) {
            e->value = Value::integer(advance().integer);
        } else if (t.kind == K::Float) {
            e->value = Value::number(advance().number);
        } else if (isOp("(")) {
            advance();
            if (isOp(")")) {
                advance();
                e->kind = Expr::Kind::List;
                return e;
            }
            ExprPtr first = parseExpression();
            if (!isOp(",")) {
                expectOp(")");
                return first;
            }
            e->kind = Expr::Kind::List;
            e->items.push_back(std::move(first));
            while (isOp(",")) {
                advance();
                if (isOp(")"))
                    break;
                e->items.push_back(parseExpression());
            }
            expectOp(")");
        } else if (isOp("[")) {
            advance();
            e->kind = Expr::Kind::List;
            while (!isOp("]")) {
                e->items.push_back(parseExpression());
                if (!isOp("]"))
                    expectOp(",");
            }
            advance();
        } else if (isOp("{")) {
            advance();
            e->kind = Expr::Kind::Dict;
            while (!isOp("}")) {
                e->items.push_back(parseExpression());
                expectOp(":");
                e->items.push_back(parseExpression());
                if (!isOp("}"))
                    expectOp(",");
            }
            advance();
        } else {
            unexpected("a value");
        }
        return e;
    }

    void parseArguments(Expr &call)
    {
        expectOp("(");
        while (!isOp(")")) {
            if (cur().kind == K::Name && peek().kind == K::Operator && peek().text == "=") {
                std::string key = advance().text;
                advance();
                call.named.emplace_back(std::move(key), parseExpression());
            } else {
                if (!call.named.empty())
                    error(cur(), "a positional argument after a keyword argument");
                call.items.push_back(parseExpression());
            }
            if (!isOp(")"))
                expectOp(",");
        }
        advance();
    }

    ExprPtr parsePostfix(ExprPtr e)
    {
        Nesting nesting(*this);
        for (;;) {
            nesting.deeper();
            if (isOp(".")) {
                auto a = at<Expr>(advance());
                a->object = std::move(e);
                if (cur().kind == K::Integer) {
                    a->kind = Expr::Kind::Subscript;
                    auto index = at<Expr>(cur());
                    index->value = Value::integer(advance().integer);
                    a->items.push_back(std::move(index));
                } else {
                    a->kind = Expr::Kind::Attribute;
                    a->name = expectName("an attribute name");
                }
                e = std::move(a);
            } else if (isOp("[")) {
                auto s = at<Expr>(advance());
                s->object = std::move(e);
                ExprPtr first;
                if (!isOp(":"))
                    first = parseExpression();
                if (isOp(":")) {
                    s->kind = Expr::Kind::Slice;
                    s->start = std::move(first);
                    advance();
                    if (!isOp(":") && !isOp("]"))
                        s->stop = parseExpression();
                    if (isOp(":")) {
                        advance();
                        if (!isOp("]"))
                            s->step = parseExpression();
                    }
                } else {
                    s->kind = Expr::Kind::Subscript;
                    s->items.push_back(std::move(first));
                }
                expectOp("]");
                e = std::move(s);
            } else if (isOp("(")) {
                auto c = at<Expr>(cur());
                c->kind = Expr::Kind::Call;
                c->object = std::move(e);
                parseArguments(*c);
                e = std::move(c);
            } else {
                return e;
            }
        }
    }

    ExprPtr parseFilters(ExprPtr e)
    {
        Nesting nesting(*this);
        for (;;) {
            nesting.deeper();
            if (isOp("|")) {
                advance();
                auto f = at<Expr>(cur());
                f->kind = Expr::Kind::Filter;
                f->name = expectName("a filter name");
                f->object = std::move(e);
                if (isOp("("))
                    parseArguments(*f);
                e = std::move(f);
            } else if (isName("is")) {
                advance();
                auto t = at<Expr>(cur());
                t->kind = Expr::Kind::Test;
                if (isName("not")) {
                    t->negated = true;
                    advance();
                }
                t->name = expectName("a test name");
                t->object = std::move(e);
                const Token &next = cur();
                if (isOp("(")) {
                    parseArguments(*t);
                } else if ((next.kind == K::String || next.kind == K::Integer || next.kind == K::Float ||
                            (next.kind == K::Name && next.text != "else" && next.text != "or" && next.text != "and" &&
                             next.text != "if" && next.text != "not" && next.text != "in" && next.text != "is")) ) {
                    t->items.push_back(parsePostfix(parsePrimary()));
                }
                e = std::move(t);
            } else {
                return e;
            }
        }
    }

    const std::vector<Token> &m_t;
    size_t m_i = 0;
    int m_loopDepth = 0;
    int m_nesting = 0;
};

} // namespace

Body parseTemplate(const std::vector<Token> &tokens)
{
    return Parser(tokens).parseAll();
}

} // namespace awq::chat::jinja
