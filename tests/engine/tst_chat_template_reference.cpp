// Chat templates against Python's Jinja2: every real template in tests/data/chat_templates
// (copied byte for byte from the models' tokenizer_config.json; sources and licences in
// tests/data/chat_templates/SOURCES.md) rendered for every conversation of
// tests/data/chat_templates/jinja2-reference.json, which scripts/quality/render_chat_templates.py
// --write renders with Jinja2 set up as transformers sets it up.

#include <QtTest>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "awq/chat/chat_template.h"
#include "awq/core/error.h"

using namespace awq;
using namespace awq::chat;
using Json = nlohmann::ordered_json;

namespace {

std::string dataFile(const std::string &file)
{
    const std::string path = std::string(AWQ_SOURCE_DIR) + "/tests/data/chat_templates/" + file;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("missing test file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The case's messages as the chat API gives them to ChatTemplate::render, when they fit
// ChatMessage (string or null content; list-form content does not): tool-call arguments
// become their JSON text, as a client sends them.
bool toChatMessages(const Json &messages, std::vector<ChatMessage> &out)
{
    for (const Json &m : messages) {
        ChatMessage message;
        message.role = m.at("role").get<std::string>();
        const Json &content = m.at("content");
        if (content.is_null())
            message.contentIsNull = true;
        else if (content.is_string())
            message.content = content.get<std::string>();
        else
            return false;
        if (m.contains("tool_calls")) {
            for (const Json &c : m.at("tool_calls")) {
                const Json &function = c.at("function");
                const Json &arguments = function.at("arguments");
                message.toolCalls.push_back({c.value("id", std::string()), function.at("name").get<std::string>(),
                                             arguments.is_string() ? arguments.get<std::string>() : arguments.dump()});
            }
        }
        message.toolCallId = m.value("tool_call_id", std::string());
        message.name = m.value("name", std::string());
        if (m.contains("reasoning_content"))
            message.reasoningContent = m.at("reasoning_content").get<std::string>();
        out.push_back(std::move(message));
    }
    return true;
}

// What the renderer gives: the text, or "raises: <message>" for the template's own
// raise_exception (the reference's "error").
template <typename F>
std::string outcome(F &&render)
{
    try {
        return render();
    } catch (const Error &e) {
        return (e.code() == ErrorCode::InvalidArgument ? "raises: " : "fails: ") + std::string(e.what());
    }
}

std::string expected(const Json &c)
{
    return c.contains("output") ? c.at("output").get<std::string>() : "raises: " + c.at("error").get<std::string>();
}

} // namespace

class TestChatTemplateReference : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Each case with the variables exactly as Jinja2 got them (renderWithVariables).
    void variablesRenderAsJinja2()
    {
        const Json reference = Json::parse(dataFile("jinja2-reference.json"));
        std::set<std::string> templates, conversations;
        int checked = 0;
        for (const Json &c : reference.at("cases")) {
            const std::string file = c.at("template").get<std::string>();
            const ChatTemplate tmpl = ChatTemplate::parse(dataFile(file));
            const std::string got = outcome([&] { return tmpl.renderWithVariables(c.at("variables")); });
            if (got != expected(c))
                qWarning("%s / %s", file.c_str(), c.at("conversation").get<std::string>().c_str());
            QCOMPARE(got, expected(c));
            templates.insert(file);
            conversations.insert(c.at("conversation").get<std::string>());
            ++checked;
        }
        // 13 templates; the conversations with tools, thinking and list-form content included.
        QCOMPARE(templates.size(), size_t(13));
        for (const char *name : {"basic", "unicode", "tools", "tools-pending", "parallel-tools", "thinking", "parts"})
            QVERIFY2(conversations.count(name), name);
        QVERIFY(checked >= 106);
        qInfo("%d renderings identical to Jinja2 %s", checked, reference.at("jinja2").get<std::string>().c_str());
    }

    // The same cases through the path the chat window and the server take: ChatMessage with
    // tool calls as JSON text, tools and enable_thinking in TemplateContext. Tool-call
    // arguments reach Llama 3.1's and Qwen3's templates as mappings, DeepSeek V3's as text.
    void chatMessagesRenderAsJinja2()
    {
        const Json reference = Json::parse(dataFile("jinja2-reference.json"));
        int checked = 0, withTools = 0;
        for (const Json &c : reference.at("cases")) {
            const Json &v = c.at("variables");
            std::vector<ChatMessage> messages;
            if (!toChatMessages(v.at("messages"), messages))
                continue; // list-form content: variablesRenderAsJinja2 covers it
            TemplateContext context;
            context.addGenerationPrompt = v.at("add_generation_prompt").get<bool>();
            context.bosToken = v.at("bos_token").get<std::string>();
            context.eosToken = v.at("eos_token").get<std::string>();
            if (!v.at("tools").is_null()) {
                context.options.toolsJson = v.at("tools").dump();
                ++withTools;
            }
            if (v.contains("enable_thinking"))
                context.options.enableThinking = v.at("enable_thinking").get<bool>();
            const ChatTemplate tmpl = ChatTemplate::parse(dataFile(c.at("template").get<std::string>()));
            const std::string got = outcome([&] { return tmpl.render(messages, context); });
            if (got != expected(c))
                qWarning("%s / %s", c.at("template").get<std::string>().c_str(),
                         c.at("conversation").get<std::string>().c_str());
            QCOMPARE(got, expected(c));
            ++checked;
        }
        QVERIFY(checked >= 90);
        QVERIFY(withTools >= 12);
    }

    // Tool use through the Llama 3.1 template, against Jinja2 3.1 configured as transformers
    // configures it (expected outputs rendered there): tools as JSON with tojson(indent=4),
    // a tool call, a tool result that is a mapping, builtin tools with reject() and items.
    void llama31ToolUseMatchesJinja()
    {
        const ChatTemplate t = ChatTemplate::parse(dataFile("llama-3.1-instruct.jinja"));
        const auto customTools = nlohmann::ordered_json::parse(R"json({"messages": [{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}, {"role": "tool", "content": {"temperature": 21.5, "sky": "clear"}}, {"role": "user", "content": "Thanks"}], "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}], "add_generation_prompt": true, "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"})json");
        QCOMPARE(t.renderWithVariables(customTools), std::string(R"out(<|begin_of_text|><|start_header_id|>system<|end_header_id|>

Environment: ipython
Cutting Knowledge Date: December 2023
Today Date: 26 Jul 2024

<|eot_id|><|start_header_id|>user<|end_header_id|>

Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.

Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.Do not use variables.

{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {
                    "type": "string"
                }
            },
            "required": [
                "city"
            ]
        }
    }
}

Weather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>

{"name": "get_weather", "parameters": {"city": "Paris"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>

{"temperature": 21.5, "sky": "clear"}<|eot_id|><|start_header_id|>user<|end_header_id|>

Thanks<|eot_id|><|start_header_id|>assistant<|end_header_id|>

)out"));
        const auto builtinTools = nlohmann::ordered_json::parse(R"json({"messages": [{"role": "user", "content": "Search"}, {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "brave_search", "arguments": {"query": "x", "n": "3"}}}]}], "add_generation_prompt": true, "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "builtin_tools": ["brave_search", "code_interpreter"], "date_string": "01 Jan 2025"})json");
        QCOMPARE(t.renderWithVariables(builtinTools), std::string(R"out(<|begin_of_text|><|start_header_id|>system<|end_header_id|>

Environment: ipython
Tools: brave_search

Cutting Knowledge Date: December 2023
Today Date: 01 Jan 2025

<|eot_id|><|start_header_id|>user<|end_header_id|>

Search<|eot_id|><|start_header_id|>assistant<|end_header_id|>

<|python_tag|>brave_search.call(query="x", n="3")<|eom_id|><|start_header_id|>assistant<|end_header_id|>

)out"));
    }

    // Tools that are not a JSON array are the caller's mistake, named as such.
    void badToolsAreRefused()
    {
        const ChatTemplate tmpl = ChatTemplate::parse(dataFile("qwen3.jinja"));
        TemplateContext context;
        context.options.toolsJson = "{\"type\": \"function\"}";
        try {
            tmpl.render({{"user", "hi"}}, context);
            QFAIL("tools that are an object were accepted");
        } catch (const Error &e) {
            QCOMPARE(e.code(), ErrorCode::InvalidArgument);
            QVERIFY(std::string(e.what()).find("JSON array") != std::string::npos);
        }
    }
};

QTEST_APPLESS_MAIN(TestChatTemplateReference)
#include "tst_chat_template_reference.moc"
