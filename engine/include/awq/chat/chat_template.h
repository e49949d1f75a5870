#pragma once
// Chat templates: the Jinja template a model ships in tokenizer_config.json ("chat_template")
// that turns a conversation into the model's prompt text. This renders the subset of Jinja
// that Hugging Face chat templates use, with the settings transformers renders them with
// (trim_blocks and lstrip_blocks on), so the prompt matches what transformers would build.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace awq::chat {

namespace jinja {
struct Stmt;
}

// A function call an assistant turn made, as the chat API carries it.
struct ToolCall
{
    std::string id;        // "call_1"; may be empty
    std::string name;      // the function's name
    std::string arguments; // the arguments as JSON text ("{\"city\": \"Paris\"}")
};

struct ChatMessage
{
    std::string role; // "system" | "user" | "assistant" | "tool"
    std::string content;
    // The chat API's "content": null (an assistant turn that only calls tools): the template
    // sees none instead of "" (DeepSeek V3's renders tool calls only then).
    bool contentIsNull = false;
    // Initialized here so that {role, content} stays a complete initializer.
    std::vector<ToolCall> toolCalls{};             // assistant turns: "tool_calls"
    std::string toolCallId{};                      // tool turns: "tool_call_id" (omitted when empty)
    std::string name{};                            // tool turns: the function's "name" (omitted when empty)
    std::optional<std::string> reasoningContent{}; // assistant turns: "reasoning_content" (Qwen3, DeepSeek R1)
};

// What a request adds to the template's variables besides the conversation.
struct PromptOptions
{
    // "tools": the tool definitions, a JSON array as text (the chat API's "tools"); empty
    // for none (the template sees none, as transformers passes it).
    std::string toolsJson{};
    // "enable_thinking" (Qwen3-style templates); unset: not passed, the template's default.
    std::optional<bool> enableThinking{};
};

struct TemplateContext
{
    bool addGenerationPrompt = true;
    std::string bosToken, eosToken; // from tokenizer_config.json
    PromptOptions options{};
};

class ChatTemplate
{
public:
    ChatTemplate() = default; // an empty template: renders ""
    // Parses a template source; throws awq::Error(ErrorCode::Format) whose message names the
    // line and column and the problem ("chat template line 3, column 5: unexpected ...").
    static ChatTemplate parse(const std::string &source);

    // Renders with the variables transformers provides: messages (a list of {role, content}
    // plus tool_calls, tool_call_id, name and reasoning_content where a message has them),
    // tools (none without), documents (none), add_generation_prompt, bos_token, eos_token and
    // enable_thinking when set. Tool-call arguments go in as a mapping, as transformers
    // documents them; a template whose expressions fail on a mapping (DeepSeek V3's
    // concatenates the text) is rendered again with the JSON text (when that fails too, the
    // first failure is reported). Throws awq::Error(InvalidArgument) whose message is the
    // template's own raise_exception text (e.g. "Conversation roles must alternate
    // user/assistant/user/assistant/...") or says that the tools are not a JSON array, or
    // awq::Error(Format) naming the line and column of a failing expression.
    std::string render(const std::vector<ChatMessage> &messages, const TemplateContext &context) const;

    // Renders with arbitrary variables (a JSON object: each key becomes a template variable,
    // e.g. "tools"). With ordered_json, dicts keep their key order (as tojson shows it).
    std::string renderWithVariables(const nlohmann::json &variables) const;
    std::string renderWithVariables(const nlohmann::ordered_json &variables) const;

    const std::string &source() const { return m_source; }

private:
    std::string m_source;
    std::shared_ptr<const std::vector<std::unique_ptr<jinja::Stmt>>> m_body; // immutable, shared by copies
};

} // namespace awq::chat
