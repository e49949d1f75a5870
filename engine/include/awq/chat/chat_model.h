#pragma once
// ChatModel: a model folder loaded for chatting. Owns the tokenizer, the prompt builder
// (chat template or plain text) and a decoder (awq/runtime/decoder_model.h: the fused
// decoder on the CPU, the reference model in fp16 on a CUDA GPU with AWQ weights
// dequantized at load), and answers a conversation by streaming the reply through a TextSink. Qt-free; the chat window drives it from a worker
// thread. Not thread-safe: one thread at a time (cancel() tokens may be set from any).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "awq/chat/chat_prompt.h"
#include "awq/chat/conversation.h"
#include "awq/core/cancel.h"
#include "awq/core/progress.h"
#include "awq/runtime/generator.h"

namespace awq {
class DecoderModel;
class Tokenizer;
} // namespace awq

namespace awq::chat {

struct ChatModelInfo {
    std::filesystem::path folder;
    std::string description;  // DecoderModel::describe(): architecture, layers, linears
    std::string precision;    // "AWQ int4 (GEMV packing, group 128)" or "float32"
    std::string device = "cpu"; // where it runs (availableDevices() id)
    int64_t contextLength = 0; // max_position_embeddings: the most ChatSettings::contextLength may ask for
    uint64_t kvCacheBytesPerToken = 0; // what each token of context costs in the decoder's KV cache
    bool hasTemplate = false;
    std::string notice;       // PromptBuilder::notice()
    double loadSeconds = 0;
    uint64_t weightBytes = 0;
};

struct Reply {
    std::string text;
    ReplyStats stats;
    int64_t droppedMessages = 0; // oldest turns left out so that the prompt fits the context
    std::string promptText;      // what the model was given (rendered template)
    std::string notice;          // how the conversation was adapted to the template (ChatPrompt::notice)
};

class ChatModel
{
public:
    // Loads config, tokenizer and weights (full precision or AWQ) for `device` ("cpu" or a
    // "cuda:N" of availableDevices()). Progress stage "load" per tensor group; `cancel` is
    // polled during loading (Error(Cancelled)). Errors name the file and the problem, or the
    // device (Error(Device)).
    static std::unique_ptr<ChatModel> load(const std::filesystem::path &folder, const ProgressFn &progress = {},
                                           const CancelToken &cancel = {}, const std::string &device = "cpu");
    ~ChatModel();

    const ChatModelInfo &info() const { return m_info; }
    const Tokenizer &tokenizer() const { return *m_tokenizer; }
    const PromptBuilder &promptBuilder() const { return *m_prompts; }

    // Tokens the prompt for `messages` takes (with the generation prompt and `options`).
    int64_t promptTokens(const std::vector<ChatMessage> &messages, const PromptOptions &options = {}) const;
    // The context a reply with `settings` works in: settings.contextLength, within
    // [1, info().contextLength]; info().contextLength when it is 0.
    int64_t contextFor(const ChatSettings &settings) const;

    // Generates the assistant's next message for `messages` (the system prompt first, when
    // any, and ending with the user's message), within contextFor(settings) tokens (the KV
    // cache never holds more). When the prompt leaves too little room,
    // the oldest turns after the system prompt are left out (keeping room for
    // min(maxNewTokens, context / 2) tokens); the reply stops at the context's end.
    // Stop with `cancel` (checked between tokens) or by returning false from `sink`.
    // `options` (tools, enable_thinking) go to the chat template (PromptBuilder::build).
    Reply reply(const std::vector<ChatMessage> &messages, const ChatSettings &settings, const TextSink &sink = {},
                const CancelToken &cancel = {}, const PromptOptions &options = {});

    // Continues `prompt` as plain text, without the chat template (what OpenAI's
    // /v1/completions does): tokenized with the tokenizer's default BOS, generated with the
    // same sampling as reply(). Throws Error(InvalidArgument) when the prompt is empty or
    // fills the context; the reply stops at the context's end.
    Reply complete(const std::string &prompt, const ChatSettings &settings, const TextSink &sink = {},
                   const CancelToken &cancel = {});

private:
    ChatModel() = default;
    // Runs `request` and fills reply's text and stats (timed from `start`).
    void generate(const GenerationRequest &request, int64_t context, const TextSink &sink, const CancelToken &cancel,
                  std::chrono::steady_clock::time_point start, Reply &reply);
    ChatModelInfo m_info;
    std::shared_ptr<const Tokenizer> m_tokenizer;
    std::unique_ptr<PromptBuilder> m_prompts;
    std::unique_ptr<DecoderModel> m_model;
};

} // namespace awq::chat
