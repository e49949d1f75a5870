#include "awq/serve/serve_backend.h"

#include <algorithm>

#include "awq/core/error.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq::serve {

std::string modelIdForFolder(const std::filesystem::path &folder)
{
    std::filesystem::path p = folder.lexically_normal();
    if (p.filename().empty())
        p = p.parent_path();
    const std::string name = p.filename().string();
    return name.empty() ? std::string("model") : name;
}

ChatModelBackend::ChatModelBackend(const std::filesystem::path &folder, size_t slots, int64_t contextLimit,
                                   const std::string &device, const ProgressFn &progress, const CancelToken &cancel)
    : m_id(modelIdForFolder(folder))
{
    AWQ_CHECK(slots >= 1 && slots <= 64, InvalidArgument, "--parallel must be between 1 and 64, not ", slots);
    AWQ_CHECK(contextLimit >= 0, InvalidArgument, "--context must not be negative");
    for (size_t i = 0; i < slots; ++i)
        m_models.push_back(chat::ChatModel::load(folder, progress, cancel, device));
    const int64_t modelContext = m_models.front()->info().contextLength;
    m_context = contextLimit > 0 ? std::min(contextLimit, modelContext) : modelContext;
    m_counter = std::make_unique<chat::PromptBuilder>(m_models.front()->tokenizer(), folder);
}

ChatModelBackend::~ChatModelBackend() = default;

int64_t ChatModelBackend::chatPromptTokens(const std::vector<chat::ChatMessage> &messages,
                                           const chat::PromptOptions &prompt) const
{
    std::lock_guard<std::mutex> lock(m_counterMutex);
    return static_cast<int64_t>(m_counter->build(messages, true, prompt).ids.size());
}

int64_t ChatModelBackend::completionPromptTokens(const std::string &prompt) const
{
    // Tokenizer: immutable after load, safe from several threads.
    return static_cast<int64_t>(m_models.front()->tokenizer().encode(prompt).size());
}

chat::Reply ChatModelBackend::chat(size_t slot, const std::vector<chat::ChatMessage> &messages,
                                   const chat::PromptOptions &prompt, const chat::ChatSettings &settings,
                                   const TextSink &sink, const CancelToken &cancel)
{
    return m_models.at(slot)->reply(messages, settings, sink, cancel, prompt);
}

chat::Reply ChatModelBackend::complete(size_t slot, const std::string &prompt, const chat::ChatSettings &settings,
                                       const TextSink &sink, const CancelToken &cancel)
{
    return m_models.at(slot)->complete(prompt, settings, sink, cancel);
}

} // namespace awq::serve
