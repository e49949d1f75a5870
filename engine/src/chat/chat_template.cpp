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

std::string ChatTemplate::render(const std::vector<ChatMessage> &messages, const TemplateContext &context) const
{
    using jinja::Value;
    jinja::List list;
    for (const ChatMessage &m : messages)
        list.push_back(Value::dict({{"role", Value::string(m.role)}, {"content", Value::string(m.content)}}));
    const jinja::Dict globals = {{"messages", Value::list(std::move(list))},
                                 {"add_generation_prompt", Value::boolean(context.addGenerationPrompt)},
                                 {"bos_token", Value::string(context.bosToken)},
                                 {"eos_token", Value::string(context.eosToken)}};
    return m_body ? jinja::renderTemplate(*m_body, globals) : std::string();
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
