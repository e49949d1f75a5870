#include "awq/chat/chat_template.h"

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "jinja_ast.h"
#include "jinja_eval.h"
#include "jinja_lexer.h"
#include "jinja_parser.h"

namespace awq::chat {

ChatTemplate ChatTemplate::parse(const std::string &source)
{
    ChatTemplate t;
    t.m_source = source;
    t.m_body = std::make_shared<const jinja::Body>(jinja::parseTemplate(jinja::tokenize(source)));
    return t;
}

namespace {

using jinja::Value;

// A tool call's arguments as the template sees them: the JSON text parsed into a mapping
// (transformers' convention) when `asMapping` and the text is a JSON object, else the text.
Value argumentsValue(const std::string &arguments, bool asMapping, bool &converted)
{
    if (asMapping) {
        const auto parsed = nlohmann::ordered_json::parse(arguments, nullptr, /*allow_exceptions=*/false);
        if (!parsed.is_discarded() && parsed.is_object()) {
            converted = true;
            return Value::fromJson(parsed);
        }
    }
    return Value::string(arguments);
}

// The message as transformers passes it: {role, content} plus the fields the chat API gave.
Value messageValue(const ChatMessage &m, bool argumentsAsMappings, bool &converted)
{
    jinja::Dict d = {{"role", Value::string(m.role)},
                     {"content", m.contentIsNull ? Value::none() : Value::string(m.content)}};
    if (!m.toolCalls.empty()) {
        jinja::List calls;
        for (const ToolCall &c : m.toolCalls) {
            jinja::Dict call;
            if (!c.id.empty())
                call.emplace_back("id", Value::string(c.id));
            call.emplace_back("type", Value::string("function"));
            call.emplace_back("function",
                              Value::dict({{"name", Value::string(c.name)},
                                           {"arguments", argumentsValue(c.arguments, argumentsAsMappings, converted)}}));
            calls.push_back(Value::dict(std::move(call)));
        }
        d.emplace_back("tool_calls", Value::list(std::move(calls)));
    }
    if (!m.toolCallId.empty())
        d.emplace_back("tool_call_id", Value::string(m.toolCallId));
    if (!m.name.empty())
        d.emplace_back("name", Value::string(m.name));
    if (m.reasoningContent)
        d.emplace_back("reasoning_content", Value::string(*m.reasoningContent));
    return Value::dict(std::move(d));
}

Value toolsValue(const std::string &toolsJson)
{
    if (toolsJson.empty())
        return Value::none();
    const auto parsed = nlohmann::ordered_json::parse(toolsJson, nullptr, /*allow_exceptions=*/false);
    AWQ_CHECK(!parsed.is_discarded() && parsed.is_array(), InvalidArgument,
              "the tools for the chat template must be a JSON array of tool definitions");
    return parsed.empty() ? Value::none() : Value::fromJson(parsed);
}

} // namespace

std::string ChatTemplate::render(const std::vector<ChatMessage> &messages, const TemplateContext &context) const
{
    if (!m_body)
        return {};
    const Value tools = toolsValue(context.options.toolsJson);
    auto renderWith = [&](bool argumentsAsMappings, bool &converted) {
        jinja::List list;
        for (const ChatMessage &m : messages)
            list.push_back(messageValue(m, argumentsAsMappings, converted));
        // As transformers' render_jinja_template: tools and documents are always passed.
        jinja::Dict globals = {{"messages", Value::list(std::move(list))},
                               {"tools", tools},
                               {"documents", Value::none()},
                               {"add_generation_prompt", Value::boolean(context.addGenerationPrompt)},
                               {"bos_token", Value::string(context.bosToken)},
                               {"eos_token", Value::string(context.eosToken)}};
        if (context.options.enableThinking)
            globals.emplace_back("enable_thinking", Value::boolean(*context.options.enableThinking));
        return jinja::renderTemplate(*m_body, globals);
    };
    bool converted = false;
    try {
        return renderWith(/*argumentsAsMappings=*/true, converted);
    } catch (const Error &e) {
        // A template written for the JSON text (it concatenates or prints the arguments) fails
        // on a mapping with a type error; its own raise_exception (InvalidArgument) is final.
        if (!converted || e.code() != ErrorCode::Format)
            throw;
        bool unused = false;
        try {
            return renderWith(/*argumentsAsMappings=*/false, unused);
        } catch (const Error &) {
            throw e;
        }
    }
}

namespace {

template <typename Json>
jinja::Dict variablesFrom(const Json &variables)
{
    AWQ_CHECK(variables.is_object(), InvalidArgument, "chat template variables must be a JSON object");
    jinja::Dict globals;
    for (auto it = variables.begin(); it != variables.end(); ++it)
        globals.emplace_back(it.key(), jinja::Value::fromJson(it.value()));
    return globals;
}

} // namespace

std::string ChatTemplate::renderWithVariables(const nlohmann::json &variables) const
{
    return m_body ? jinja::renderTemplate(*m_body, variablesFrom(variables)) : std::string();
}

std::string ChatTemplate::renderWithVariables(const nlohmann::ordered_json &variables) const
{
    return m_body ? jinja::renderTemplate(*m_body, variablesFrom(variables)) : std::string();
}

} // namespace awq::chat
