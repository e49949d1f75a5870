#pragma once
// PromptBuilder: turns a conversation into the token ids a model folder expects.
//
// With a chat template (tokenizer_config.json "chat_template") the messages are rendered
// by ChatTemplate and the text is tokenized as transformers' apply_chat_template does:
// no BOS of its own (the template writes bos_token where the model wants it), and every
// special token written as text ("<s>", "</s>", "<|im_start|>", ...) becomes its id
// rather than its spelling's pieces. Without a template (or with one that does not parse)
// the conversation is sent as plain text to continue, and notice() says so.
//
// Immutable after construction; safe to use from one thread at a time.

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "awq/chat/chat_template.h"

namespace awq {
class Tokenizer;
}

namespace awq::chat {

struct SpecialToken {
    std::string text;
    int32_t id = -1;
};

struct ChatPrompt {
    std::vector<int32_t> ids;
    std::string text;                 // what was tokenized
    bool fromTemplate = false;
    std::vector<int32_t> stopTokenIds; // end-of-turn markers besides EOS
    std::string notice;                // how the conversation was adapted to the template, if it was
};

class PromptBuilder
{
public:
    // `folder` holds tokenizer_config.json (its added_tokens_decoder names the special
    // tokens); the template comes from tokenizer.chatTemplate(). Throws Error(Format) for
    // a tokenizer_config.json that is not JSON (naming it).
    PromptBuilder(const Tokenizer &tokenizer, const std::filesystem::path &folder);

    bool hasTemplate() const { return m_template.has_value(); }
    // Empty when the template is used; otherwise why the conversation goes as plain text.
    const std::string &notice() const { return m_notice; }
    const std::vector<SpecialToken> &specialTokens() const { return m_specials; }

    // Renders (or joins) and tokenizes. A template that refuses a system message (Gemma's
    // and Mistral's raise_exception) gets it at the head of the first user message instead,
    // and the prompt's notice says so. Throws Error from the template otherwise (e.g. its
    // raise_exception message when roles do not alternate). `options` (tools,
    // enable_thinking) reach the template; tools for a model without a template, or whose
    // template never mentions them, throw Error(InvalidArgument) saying so.
    ChatPrompt build(const std::vector<ChatMessage> &messages, bool addGenerationPrompt = true,
                     const PromptOptions &options = {}) const;
    // Tokenizes text in which special tokens appear as text: each becomes its id, the text
    // between is encoded without BOS. Longest match first.
    std::vector<int32_t> encodeWithSpecialTokens(const std::string &text) const;

private:
    const Tokenizer &m_tokenizer;
    std::optional<ChatTemplate> m_template;
    std::string m_notice;
    std::vector<SpecialToken> m_specials; // longest text first
    std::array<bool, 256> m_firstChars{}; // bytes a special token starts with
    std::vector<int32_t> m_stopTokenIds;
};

// Plain completion: the system prompt and the messages' contents joined into one text to
// continue (system prompt, a blank line, then the turns one after another).
std::string joinAsPlainText(const std::vector<ChatMessage> &messages);

} // namespace awq::chat
