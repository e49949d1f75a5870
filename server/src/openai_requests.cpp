#include "awq/serve/openai_requests.h"

#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "awq/serve/api_error.h"

namespace awq::serve {

using nlohmann::json;

namespace {

[[noreturn]] void badField(const std::string &field, const std::string &problem)
{
    throw ApiError(400, "'" + field + "' " + problem, field);
}

json parseBody(const std::string &body)
{
    json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded())
        throw ApiError(400, "the request body is not valid JSON", {}, "invalid_json");
    if (!doc.is_object())
        throw ApiError(400, "the request body must be a JSON object", {}, "invalid_json");
    return doc;
}

const json *field(const json &doc, const char *name)
{
    const auto it = doc.find(name);
    return it == doc.end() || it->is_null() ? nullptr : &*it;
}

double number(const json &doc, const char *name, double min, double max, double fallback)
{
    const json *value = field(doc, name);
    if (!value)
        return fallback;
    if (!value->is_number())
        badField(name, "must be a number");
    const double v = value->get<double>();
    if (!std::isfinite(v) || v < min || v > max) {
        std::ostringstream range;
        range << "must be a number between " << min << " and " << max;
        badField(name, range.str());
    }
    return v;
}

int64_t integer(const json &doc, const char *name, int64_t min, int64_t max, int64_t fallback)
{
    const json *value = field(doc, name);
    if (!value)
        return fallback;
    if (!value->is_number_integer())
        badField(name, "must be an integer");
    // Unsigned values above INT64_MAX are out of range however they are read.
    if (value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(max))
        badField(name, "must be at most " + std::to_string(max));
    const int64_t v = value->get<int64_t>();
    if (v < min || v > max)
        badField(name, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
    return v;
}

bool boolean(const json &doc, const char *name, bool fallback)
{
    const json *value = field(doc, name);
    if (!value)
        return fallback;
    if (!value->is_boolean())
        badField(name, "must be true or false");
    return value->get<bool>();
}

void refuse(const json &doc, const char *name, const std::string &why)
{
    if (field(doc, name))
        badField(name, why);
}

std::vector<std::string> stopStrings(const json &doc, const RequestLimits &limits)
{
    const json *value = field(doc, "stop");
    std::vector<std::string> stops;
    if (!value)
        return stops;
    if (value->is_string()) {
        stops.push_back(value->get<std::string>());
    } else if (value->is_array()) {
        if (value->size() > limits.maxStopStrings)
            badField("stop", "may hold at most " + std::to_string(limits.maxStopStrings) + " strings");
        for (const json &s : *value) {
            if (!s.is_string())
                badField("stop", "must be a string or an array of strings");
            stops.push_back(s.get<std::string>());
        }
    } else {
        badField("stop", "must be a string or an array of strings");
    }
    for (const std::string &s : stops) {
        if (s.empty())
            badField("stop", "must not contain an empty string");
        if (s.size() > limits.maxStopLength)
            badField("stop", "strings may be at most " + std::to_string(limits.maxStopLength) + " bytes long");
    }
    return stops;
}

GenerationOptions parseOptions(const json &doc, const RequestLimits &limits, bool chat)
{
    GenerationOptions options;
    if (const json *model = field(doc, "model")) {
        if (!model->is_string())
            badField("model", "must be a string");
        options.model = model->get<std::string>();
    }
    chat::ChatSettings &s = options.settings;
    s.temperature = number(doc, "temperature", 0, 2, 1.0);
    s.topP = number(doc, "top_p", 0, 1, 1.0);
    if (s.topP <= 0)
        badField("top_p", "must be greater than 0");
    s.topK = integer(doc, "top_k", 0, 1 << 24, 0);
    s.minP = number(doc, "min_p", 0, 1, 0.0);
    s.repetitionPenalty = number(doc, "repetition_penalty", 0.01, 10, 1.0);
    s.presencePenalty = number(doc, "presence_penalty", -2, 2, 0.0);
    s.frequencyPenalty = number(doc, "frequency_penalty", -2, 2, 0.0);
    // max_completion_tokens is the newer name of max_tokens in the chat API.
    const char *maxName = chat && field(doc, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    s.maxNewTokens = integer(doc, maxName, 1, std::numeric_limits<int32_t>::max(), 0);
    s.randomSeed = !field(doc, "seed");
    s.seed = static_cast<uint64_t>(integer(doc, "seed", std::numeric_limits<int64_t>::min(),
                                           std::numeric_limits<int64_t>::max(), 0));
    s.stopStrings = stopStrings(doc, limits);
    options.stream = boolean(doc, "stream", false);
    if (const json *streamOptions = field(doc, "stream_options")) {
        if (!streamOptions->is_object())
            badField("stream_options", "must be an object");
        options.includeUsage = boolean(*streamOptions, "include_usage", false);
    }

    if (integer(doc, "n", 1, 1, 1) != 1)
        badField("n", "must be 1");
    if (chat && boolean(doc, "logprobs", false))
        badField("logprobs", "is not supported by this server");
    if (const json *bias = field(doc, "logit_bias"); bias && !bias->empty())
        badField("logit_bias", "is not supported by this server");
    return options;
}

// The text of a message's "content": a string or a list of text parts; null or absent is
// std::nullopt (an assistant turn that only calls tools).
std::optional<std::string> messageContent(const json &message, size_t index)
{
    const std::string name = "messages[" + std::to_string(index) + "].content";
    const json *content = field(message, "content");
    if (!content)
        return std::nullopt;
    if (content->is_string())
        return content->get<std::string>();
    if (!content->is_array())
        badField(name, "must be a string or an array of text parts");
    // [{"type": "text", "text": "..."}, ...]: the text parts joined.
    std::string text;
    for (const json &part : *content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text")
            || !part["text"].is_string())
            badField(name, "parts must be {\"type\": \"text\", \"text\": \"...\"}; this server reads text only");
        text += part["text"].get<std::string>();
    }
    return text;
}

std::string requiredString(const json &doc, const char *key, const std::string &name)
{
    const json *value = field(doc, key);
    if (!value || !value->is_string() || value->get<std::string>().empty())
        badField(name + "." + key, "is required and must be a non-empty string");
    return value->get<std::string>();
}

std::string optionalString(const json &doc, const char *key, const std::string &name)
{
    const json *value = field(doc, key);
    if (!value)
        return {};
    if (!value->is_string())
        badField(name + "." + key, "must be a string");
    return value->get<std::string>();
}

// An assistant turn's "tool_calls": [{"id", "type": "function", "function": {"name",
// "arguments": JSON text (an object is taken as its text)}}].
std::vector<chat::ToolCall> toolCalls(const json &message, const std::string &name)
{
    std::vector<chat::ToolCall> calls;
    const json *value = field(message, "tool_calls");
    if (!value)
        return calls;
    if (!value->is_array())
        badField(name + ".tool_calls", "must be an array of {\"type\": \"function\", \"function\": {...}}");
    for (size_t i = 0; i < value->size(); ++i) {
        const json &c = (*value)[i];
        const std::string callName = name + ".tool_calls[" + std::to_string(i) + "]";
        if (!c.is_object() || c.value("type", "function") != "function" || !c.contains("function")
            || !c["function"].is_object())
            badField(callName, "must be {\"type\": \"function\", \"function\": {\"name\": ..., \"arguments\": ...}}");
        const json &function = c["function"];
        chat::ToolCall call;
        call.id = optionalString(c, "id", callName);
        call.name = requiredString(function, "name", callName + ".function");
        const json *arguments = field(function, "arguments");
        if (!arguments)
            call.arguments = "{}";
        else if (arguments->is_string())
            call.arguments = arguments->get<std::string>();
        else if (arguments->is_object())
            call.arguments = arguments->dump();
        else
            badField(callName + ".function.arguments", "must be a JSON object or its text");
        calls.push_back(std::move(call));
    }
    return calls;
}

// "tools": [{"type": "function", "function": {"name", "description", "parameters"}}], kept
// as the client ordered its keys (the template shows them with tojson). tool_choice "none"
// leaves them out of the prompt; "auto" (the default) lets the model choose. The reply is
// the model's text: calls it writes in its template's format are not parsed into tool_calls.
std::string toolsJson(const json &doc, const std::string &body)
{
    const json *tools = field(doc, "tools");
    if (!tools || (tools->is_array() && tools->empty()))
        return {};
    if (!tools->is_array())
        badField("tools", "must be an array of {\"type\": \"function\", \"function\": {...}}");
    for (size_t i = 0; i < tools->size(); ++i) {
        const json &t = (*tools)[i];
        const std::string name = "tools[" + std::to_string(i) + "]";
        if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") || !t["function"].is_object())
            badField(name, "must be {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": ...}}");
        requiredString(t["function"], "name", name + ".function");
        if (const json *parameters = field(t["function"], "parameters"); parameters && !parameters->is_object())
            badField(name + ".function.parameters", "must be a JSON Schema object");
    }
    return nlohmann::ordered_json::parse(body).at("tools").dump();
}

// vLLM's "chat_template_kwargs": {"enable_thinking": false} (Qwen3-style templates).
std::optional<bool> enableThinking(const json &doc)
{
    const json *kwargs = field(doc, "chat_template_kwargs");
    if (!kwargs)
        return std::nullopt;
    if (!kwargs->is_object())
        badField("chat_template_kwargs", "must be an object");
    for (const auto &[key, value] : kwargs->items())
        if (key != "enable_thinking")
            badField("chat_template_kwargs", "may hold only \"enable_thinking\" on this server, not \"" + key + "\"");
    const json *thinking = field(*kwargs, "enable_thinking");
    if (!thinking)
        return std::nullopt;
    if (!thinking->is_boolean())
        badField("chat_template_kwargs.enable_thinking", "must be true or false");
    return thinking->get<bool>();
}

} // namespace

ChatCompletionRequest parseChatCompletionRequest(const std::string &body, const RequestLimits &limits)
{
    const json doc = parseBody(body);
    ChatCompletionRequest request;
    request.options = parseOptions(doc, limits, /*chat=*/true);
    for (const char *name : {"functions", "function_call"})
        if (const json *value = field(doc, name); value && !(value->is_array() && value->empty()))
            badField(name, "is not supported by this server (the older function-calling API); use 'tools'");
    request.templateOptions.toolsJson = toolsJson(doc, body);
    if (const json *choice = field(doc, "tool_choice")) {
        if (!choice->is_string() || (*choice != "auto" && *choice != "none"))
            badField("tool_choice", "must be \"auto\" or \"none\"; this server does not force tool calls");
        if (*choice == "none")
            request.templateOptions.toolsJson.clear();
    }
    request.templateOptions.enableThinking = enableThinking(doc);
    if (const json *format = field(doc, "response_format")) {
        if (!format->is_object() || format->value("type", "text") != "text")
            badField("response_format", "must be {\"type\": \"text\"}; JSON modes are not supported");
    }

    const json *messages = field(doc, "messages");
    if (!messages)
        badField("messages", "is required");
    if (!messages->is_array() || messages->empty())
        badField("messages", "must be a non-empty array");
    if (messages->size() > limits.maxMessages)
        badField("messages", "may hold at most " + std::to_string(limits.maxMessages) + " messages");
    size_t bytes = 0;
    for (size_t i = 0; i < messages->size(); ++i) {
        const json &m = (*messages)[i];
        const std::string name = "messages[" + std::to_string(i) + "]";
        if (!m.is_object())
            badField(name, "must be an object with 'role' and 'content'");
        const json *role = field(m, "role");
        if (!role || !role->is_string())
            badField(name + ".role", "is required and must be a string");
        std::string r = role->get<std::string>();
        if (r == "developer") // OpenAI's newer name for the system role
            r = "system";
        if (r != "system" && r != "user" && r != "assistant" && r != "tool")
            badField(name + ".role", "must be 'system', 'user', 'assistant' or 'tool', not '" + r + "'");
        chat::ChatMessage message;
        message.role = r;
        const std::optional<std::string> content = messageContent(m, i);
        message.content = content.value_or(std::string());
        if (r == "assistant") {
            message.toolCalls = toolCalls(m, name);
            // "content": null beside tool calls reaches the template as none, as the API gave it.
            message.contentIsNull = !content && !message.toolCalls.empty();
            if (const json *reasoning = field(m, "reasoning_content")) {
                if (!reasoning->is_string())
                    badField(name + ".reasoning_content", "must be a string");
                message.reasoningContent = reasoning->get<std::string>();
                bytes += message.reasoningContent->size();
            }
            for (const chat::ToolCall &c : message.toolCalls)
                bytes += c.name.size() + c.arguments.size();
        } else if (field(m, "tool_calls")) {
            badField(name + ".tool_calls", "is only allowed on assistant messages");
        }
        if (r == "tool") {
            message.toolCallId = optionalString(m, "tool_call_id", name);
            message.name = optionalString(m, "name", name);
        }
        bytes += message.content.size();
        request.messages.push_back(std::move(message));
    }
    bytes += request.templateOptions.toolsJson.size();
    if (bytes > limits.maxPromptBytes)
        badField("messages", "hold " + std::to_string(bytes) + " bytes of text; this server accepts at most "
                                 + std::to_string(limits.maxPromptBytes));
    if (request.messages.back().role == "assistant")
        badField("messages", "must end with a user, tool (or system) message for the model to answer");
    return request;
}

CompletionRequest parseCompletionRequest(const std::string &body, const RequestLimits &limits)
{
    const json doc = parseBody(body);
    CompletionRequest request;
    request.options = parseOptions(doc, limits, /*chat=*/false);
    if (boolean(doc, "echo", false))
        badField("echo", "is not supported by this server");
    if (integer(doc, "best_of", 1, 1, 1) != 1)
        badField("best_of", "must be 1");
    if (const json *suffix = field(doc, "suffix"); suffix && !(suffix->is_string() && suffix->get<std::string>().empty()))
        badField("suffix", "is not supported by this server");
    refuse(doc, "logprobs", "is not supported by this server");

    const json *prompt = field(doc, "prompt");
    if (!prompt)
        badField("prompt", "is required");
    if (prompt->is_string()) {
        request.prompt = prompt->get<std::string>();
    } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
        request.prompt = (*prompt)[0].get<std::string>();
    } else {
        badField("prompt", "must be a string (or an array of one string); token arrays and batches are not supported");
    }
    if (request.prompt.empty())
        badField("prompt", "must not be empty");
    if (request.prompt.size() > limits.maxPromptBytes)
        badField("prompt", "is " + std::to_string(request.prompt.size()) + " bytes; this server accepts at most "
                               + std::to_string(limits.maxPromptBytes));
    return request;
}

void fitToContext(GenerationOptions &options, int64_t promptTokens, int64_t context)
{
    int64_t &maxNew = options.settings.maxNewTokens;
    if (promptTokens >= context || (maxNew > 0 && promptTokens + maxNew > context)) {
        const int64_t asked = maxNew > 0 ? maxNew : 1;
        throw ApiError(400,
                       "This model's maximum context length is " + std::to_string(context)
                           + " tokens. However, you requested " + std::to_string(promptTokens + asked) + " tokens ("
                           + std::to_string(promptTokens) + " in the prompt, " + std::to_string(asked)
                           + " in the completion). Please reduce the prompt or the completion length.",
                       maxNew > 0 ? "max_tokens" : "messages", "context_length_exceeded");
    }
    if (maxNew == 0)
        maxNew = context - promptTokens;
}

} // namespace awq::serve
