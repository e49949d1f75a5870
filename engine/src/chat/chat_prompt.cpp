#include "awq/chat/chat_prompt.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/tokenizer/bos_rule.h"
#include "awq/tokenizer/tokenizer.h"

namespace fs = std::filesystem;

namespace awq::chat {

namespace {

// End-of-turn markers of the common chat formats: when the tokenizer has one as a special
// token, generation stops at it as at EOS.
const char *const kEndOfTurnMarkers[] = {"<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                         "<|end_of_turn|>"};

void addSpecial(std::vector<SpecialToken> &specials, const std::string &text, int32_t id)
{
    if (text.empty() || id < 0)
        return;
    for (const SpecialToken &s : specials)
        if (s.text == text)
            return;
    specials.push_back({text, id});
}

} // namespace

std::string joinAsPlainText(const std::vector<ChatMessage> &messages)
{
    std::string text;
    const ChatMessage *previous = nullptr;
    for (const ChatMessage &m : messages) {
        if (m.role == "system") {
            if (!m.content.empty())
                text += m.content + "\n\n";
            continue;
        }
        // A reply continues the text it answers; a new message after a reply starts a line.
        if (previous && previous->role == "assistant" && m.role == "user" && !text.empty() && text.back() != '\n')
            text += '\n';
        text += m.content;
        previous = &m;
    }
    return text;
}

PromptBuilder::PromptBuilder(const Tokenizer &tokenizer, const fs::path &folder) : m_tokenizer(tokenizer)
{
    addSpecial(m_specials, tokenizer.bosToken(), tokenizer.bosId());
    addSpecial(m_specials, tokenizer.eosToken(), tokenizer.eosId());
    const fs::path configPath = folder / "tokenizer_config.json";
    if (fs::is_regular_file(configPath)) {
        const nlohmann::json config = readJsonFile(configPath);
        // {"added_tokens_decoder": {"32000": {"content": "<|im_start|>", "special": true}, ...}}
        if (config.is_object() && config.contains("added_tokens_decoder")
            && config["added_tokens_decoder"].is_object()) {
            for (const auto &[key, entry] : config["added_tokens_decoder"].items()) {
                if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string())
                    continue;
                const std::string content = entry["content"].get<std::string>();
                int32_t id = tokenizer.pieceToId(content);
                if (id < 0) {
                    try {
                        id = static_cast<int32_t>(std::stol(key));
                    } catch (const std::exception &) {
                        id = -1;
                    }
                }
                if (id >= 0 && id < tokenizer.vocabSize())
                    addSpecial(m_specials, content, id);
            }
        }
    }
    for (const char *marker : kEndOfTurnMarkers) {
        const int32_t id = tokenizer.pieceToId(marker);
        if (id >= 0 && id != tokenizer.unkId()) {
            addSpecial(m_specials, marker, id);
            m_stopTokenIds.push_back(id);
        }
    }
    std::stable_sort(m_specials.begin(), m_specials.end(),
                     [](const SpecialToken &a, const SpecialToken &b) { return a.text.size() > b.text.size(); });
    for (const SpecialToken &s : m_specials)
        m_firstChars[static_cast<unsigned char>(s.text.front())] = true;

    if (!tokenizer.chatTemplate()) {
        m_notice = "This model has no chat template (tokenizer_config.json): messages are sent as plain text "
                   "for the model to continue.";
        return;
    }
    try {
        m_template = ChatTemplate::parse(*tokenizer.chatTemplate());
    } catch (const Error &e) {
        m_notice = std::string("The chat template in ") + configPath.string() + " could not be read (" + e.what()
                   + "): messages are sent as plain text for the model to continue.";
    }
}

std::vector<int32_t> PromptBuilder::encodeWithSpecialTokens(const std::string &text) const
{
    std::vector<int32_t> ids;
    size_t start = 0; // the beginning of the ordinary text not yet encoded
    auto flushText = [&](size_t end) {
        if (end > start) {
            const std::vector<int32_t> part = m_tokenizer.encode(text.substr(start, end - start), false);
            ids.insert(ids.end(), part.begin(), part.end());
        }
    };
    size_t pos = 0;
    while (pos < text.size()) {
        const SpecialToken *match = nullptr;
        if (m_firstChars[static_cast<unsigned char>(text[pos])]) {
            for (const SpecialToken &s : m_specials) // longest first
                if (text.compare(pos, s.text.size(), s.text) == 0) {
                    match = &s;
                    break;
                }
        }
        if (!match) {
            ++pos;
            continue;
        }
        flushText(pos);
        ids.push_back(match->id);
        pos += match->text.size();
        start = pos;
    }
    flushText(text.size());
    return ids;
}

ChatPrompt PromptBuilder::build(const std::vector<ChatMessage> &messages, bool addGenerationPrompt,
                                const PromptOptions &options) const
{
    AWQ_CHECK(!messages.empty(), InvalidArgument, "the conversation is empty");
    // Tools that the prompt would silently leave out are refused: the caller would wait for
    // calls the model was never offered.
    AWQ_CHECK(options.toolsJson.empty() || (m_template && m_template->source().find("tools") != std::string::npos),
              InvalidArgument, m_template ? "this model's chat template does not use tools"
                                          : "this model has no chat template, so it cannot be offered tools");
    ChatPrompt prompt;
    prompt.stopTokenIds = m_stopTokenIds;
    if (m_template) {
        TemplateContext context;
        context.addGenerationPrompt = addGenerationPrompt;
        context.bosToken = m_tokenizer.bosToken();
        context.eosToken = m_tokenizer.eosToken();
        context.options = options;
        try {
            prompt.text = m_template->render(messages, context);
        } catch (const Error &refused) {
            // Many templates have no system role; fold it into the first user message, as chat
            // front ends do, rather than refuse the conversation.
            const bool hasSystem = messages.front().role == "system";
            if (!hasSystem || messages.size() < 2 || messages[1].role != "user")
                throw;
            std::vector<ChatMessage> folded(messages.begin() + 1, messages.end());
            folded.front().content = messages.front().content + "\n\n" + folded.front().content;
            prompt.text = m_template->render(folded, context); // throws when that does not help either
            prompt.notice = std::string("This model's chat template has no system role (\"") + refused.what()
                            + "\"): the system prompt was put at the start of the first message.";
        }
        prompt.ids = encodeWithSpecialTokens(prompt.text);
        prompt.fromTemplate = true;
    } else {
        prompt.text = joinAsPlainText(messages);
        prompt.ids = encodeText(m_tokenizer, prompt.text); // the model's BOS default, as awq generate / perplexity
    }
    AWQ_CHECK(!prompt.ids.empty(), InvalidArgument, "the conversation gives an empty prompt");
    return prompt;
}

} // namespace awq::chat
