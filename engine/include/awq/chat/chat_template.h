#pragma once
// Chat templates: the Jinja template a model ships in tokenizer_config.json ("chat_template")
// that turns a conversation into the model's prompt text. This renders the subset of Jinja
// that Hugging Face chat templates use, with the settings transformers renders them with
// (trim_blocks and lstrip_blocks on), so the prompt matches what transformers would build.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace awq::chat {

namespace jinja {
struct Stmt;
}

struct ChatMessage
{
    std::string role; // "system" | "user" | "assistant"
    std::string content;
};

struct TemplateContext
{
    bool addGenerationPrompt = true;
    std::string bosToken, eosToken; // from tokenizer_config.json
};

class ChatTemplate
{
public:
    ChatTemplate() = default; // an empty template: renders ""
    // Parses a template source; throws awq::Error(ErrorCode::Format) whose message names the
    // line and column and the problem ("chat template line 3, column 5: unexpected ...").
    static ChatTemplate parse(const std::string &source);

    // Renders with the variables transformers provides: messages (a list of {role, content}),
    // add_generation_prompt, bos_token, eos_token. Throws awq::Error(InvalidArgument) whose
    // message is the template's own raise_exception text (e.g. "Conversation roles must
    // alternate user/assistant/user/assistant/..."), or awq::Error(Format) naming the line
    // and column of a failing expression.
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
