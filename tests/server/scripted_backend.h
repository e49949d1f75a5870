#pragma once
// ScriptedBackend: a ServeBackend without a model, for the server tests that need exact
// control of timing: each generated "token" is the word "w<i> " after `tokenDelay`, until
// max_tokens, a cancel or the sink says stop. It records what happened so that tests can
// check that a disconnect really stopped the generation. A first message "refuse" throws
// awq::Error(InvalidArgument) as a chat template does; "explode" throws a plain exception.

#include <atomic>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "awq/core/error.h"
#include "awq/serve/serve_backend.h"

namespace awq::test {

class ScriptedBackend final : public serve::ServeBackend
{
public:
    explicit ScriptedBackend(size_t slots = 1, std::chrono::milliseconds tokenDelay = std::chrono::milliseconds(5))
        : m_slots(slots), m_delay(tokenDelay)
    {
    }
    std::chrono::milliseconds tokenDelay() const { return m_delay.load(); }
    void setTokenDelay(std::chrono::milliseconds delay) { m_delay = delay; }

    std::string modelId() const override { return "scripted"; }
    int64_t contextLength() const override { return 100000; }
    size_t slots() const override { return m_slots; }
    int64_t chatPromptTokens(const std::vector<chat::ChatMessage> &messages, const chat::PromptOptions &) const override
    {
        int64_t words = 1;
        for (const auto &m : messages)
            words += countWords(m.content) + 1;
        return words;
    }
    int64_t completionPromptTokens(const std::string &prompt) const override { return countWords(prompt) + 1; }

    chat::Reply chat(size_t, const std::vector<chat::ChatMessage> &messages, const chat::PromptOptions &prompt,
                     const chat::ChatSettings &settings, const TextSink &sink, const CancelToken &cancel) override
    {
        if (messages.front().content == "refuse")
            fail(ErrorCode::InvalidArgument, "the chat template refuses this conversation");
        if (messages.front().content == "explode")
            throw std::runtime_error("scripted failure");
        return run(chatPromptTokens(messages, prompt), settings, sink, cancel);
    }
    chat::Reply complete(size_t, const std::string &prompt, const chat::ChatSettings &settings, const TextSink &sink,
                         const CancelToken &cancel) override
    {
        return run(completionPromptTokens(prompt), settings, sink, cancel);
    }

    std::atomic<int> started{0}, finished{0}, active{0};
    std::atomic<int64_t> lastGenerated{0};
    std::atomic<bool> lastStoppedEarly{false}; // by the sink or a cancel

private:
    static int64_t countWords(const std::string &text)
    {
        std::istringstream in(text);
        std::string word;
        int64_t n = 0;
        while (in >> word)
            ++n;
        return n;
    }

    chat::Reply run(int64_t promptTokens, const chat::ChatSettings &settings, const TextSink &sink,
                    const CancelToken &cancel)
    {
        ++started;
        ++active;
        chat::Reply reply;
        reply.stats.promptTokens = promptTokens;
        reply.stats.stopReason = "max new tokens";
        for (int64_t i = 0; i < settings.maxNewTokens; ++i) {
            if (cancel.isCancelled()) {
                reply.stats.stopReason = "cancelled";
                break;
            }
            std::this_thread::sleep_for(m_delay.load());
            const std::string piece = "w" + std::to_string(i) + " ";
            reply.text += piece;
            ++reply.stats.generatedTokens;
            if (sink && !sink(piece, static_cast<int32_t>(i))) {
                reply.stats.stopReason = "stopped";
                break;
            }
        }
        lastGenerated = reply.stats.generatedTokens;
        lastStoppedEarly = reply.stats.stopReason == "cancelled" || reply.stats.stopReason == "stopped";
        --active;
        ++finished;
        return reply;
    }

    size_t m_slots;
    std::atomic<std::chrono::milliseconds> m_delay;
};

} // namespace awq::test
