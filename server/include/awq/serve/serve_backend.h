#pragma once
// What the server needs from a model: its id and context, prompt token counts (to check a
// request against the context before it is queued), and generation for a chat or a plain
// prompt on one of its slots. ChatModelBackend serves a model folder through
// awq::chat::ChatModel, one loaded instance per slot; tests substitute a scripted backend.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "awq/chat/chat_model.h"
#include "awq/core/cancel.h"
#include "awq/core/progress.h"

namespace awq::serve {

class ServeBackend
{
public:
    virtual ~ServeBackend() = default;
    virtual std::string modelId() const = 0;
    virtual int64_t contextLength() const = 0;
    virtual size_t slots() const = 0;
    // Thread-safe. Throw awq::Error(InvalidArgument) for a conversation the template refuses.
    // `prompt` carries the request's tools and enable_thinking to the chat template.
    virtual int64_t chatPromptTokens(const std::vector<chat::ChatMessage> &messages,
                                     const chat::PromptOptions &prompt) const = 0;
    virtual int64_t completionPromptTokens(const std::string &prompt) const = 0;
    // One call at a time per slot (SlotRunner guarantees it); different slots run concurrently.
    virtual chat::Reply chat(size_t slot, const std::vector<chat::ChatMessage> &messages,
                             const chat::PromptOptions &prompt, const chat::ChatSettings &settings,
                             const TextSink &sink, const CancelToken &cancel) = 0;
    virtual chat::Reply complete(size_t slot, const std::string &prompt, const chat::ChatSettings &settings,
                                 const TextSink &sink, const CancelToken &cancel) = 0;
};

class ChatModelBackend final : public ServeBackend
{
public:
    // Loads `slots` instances of the model folder on `device` (each with its own weights and
    // KV cache: memory grows with the slots). `contextLimit` > 0 caps the context below the
    // model's own. Errors as ChatModel::load.
    ChatModelBackend(const std::filesystem::path &folder, size_t slots = 1, int64_t contextLimit = 0,
                     const std::string &device = "cpu", const ProgressFn &progress = {},
                     const CancelToken &cancel = {});
    ~ChatModelBackend() override;

    std::string modelId() const override { return m_id; }
    int64_t contextLength() const override { return m_context; }
    size_t slots() const override { return m_models.size(); }
    int64_t chatPromptTokens(const std::vector<chat::ChatMessage> &messages,
                             const chat::PromptOptions &prompt) const override;
    int64_t completionPromptTokens(const std::string &prompt) const override;
    chat::Reply chat(size_t slot, const std::vector<chat::ChatMessage> &messages, const chat::PromptOptions &prompt,
                     const chat::ChatSettings &settings, const TextSink &sink, const CancelToken &cancel) override;
    chat::Reply complete(size_t slot, const std::string &prompt, const chat::ChatSettings &settings,
                         const TextSink &sink, const CancelToken &cancel) override;

    const chat::ChatModelInfo &info() const { return m_models.front()->info(); }

private:
    std::string m_id;
    int64_t m_context = 0;
    std::vector<std::unique_ptr<chat::ChatModel>> m_models;
    // Counting has its own prompt builder (PromptBuilder is for one thread at a time; the
    // slots' own builders are busy generating), shared by the HTTP threads under a mutex.
    std::unique_ptr<chat::PromptBuilder> m_counter;
    mutable std::mutex m_counterMutex;
};

// The id a model folder is served under: its folder name ("demo-llama").
std::string modelIdForFolder(const std::filesystem::path &folder);

} // namespace awq::serve
