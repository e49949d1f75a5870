#include "awq/runtime/generator.h"

#include <chrono>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/runtime/decoder_model.h"
#include "awq/runtime/sampler.h"
#include "awq/runtime/utf8_stream.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq {

const char *stopReasonName(StopReason reason)
{
    switch (reason) {
    case StopReason::Eos: return "end of sequence";
    case StopReason::StopString: return "stop string";
    case StopReason::MaxTokens: return "max new tokens";
    case StopReason::Callback: return "stopped";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::ContextFull: return "context full";
    }
    return "?";
}

double GenerationResult::decodeTokensPerSecond() const
{
    // The first token comes out of the prefill; the others each took one decode step.
    const size_t steps = tokens.size() > 1 ? tokens.size() - 1 : 0;
    return decodeSeconds > 0 ? static_cast<double>(steps) / decodeSeconds : 0;
}

Generator::Generator(DecoderModel &model, const Tokenizer &tokenizer, int64_t maxContext)
    : m_model(model), m_tokenizer(tokenizer),
      m_maxContext(maxContext > 0 ? maxContext : model.config().maxPositionEmbeddings)
{
}

GenerationResult Generator::generate(const GenerationRequest &request, const TextSink &sink, const CancelToken &cancel)
{
    using Clock = std::chrono::steady_clock;
    request.sampling.validate();
    AWQ_CHECK(!request.promptIds.empty(), InvalidArgument, "the prompt is empty");
    const int64_t promptLength = static_cast<int64_t>(request.promptIds.size());
    AWQ_CHECK(promptLength < m_maxContext, InvalidArgument, "the prompt has ", promptLength,
              " tokens, the context holds ", m_maxContext);
    for (int32_t id : request.promptIds)
        AWQ_CHECK(id >= 0 && id < m_model.config().vocabSize, InvalidArgument, "token id ", id,
                  " is outside the model's vocabulary (", m_model.config().vocabSize, ")");

    c10::InferenceMode inference;
    GenerationResult result;
    result.promptTokens = promptLength;
    const int64_t budget = std::min<int64_t>(request.sampling.maxNewTokens, m_maxContext - promptLength);
    m_model.reset(1, promptLength + budget);
    const std::vector<int64_t> &eosIds = m_model.config().eosTokenIds;
    // Embedding rows padded past the tokenizer (Phi-3, Qwen2, Llama 3) have no text: never
    // sampled. Every id below Tokenizer::vocabSize() decodes (tokenizer.model: its pieces;
    // tokenizer.json: the BPE ids and the added tokens, an unassigned id to nothing).
    SamplingParams sampling = request.sampling;
    if (m_tokenizer.vocabSize() < m_model.config().vocabSize)
        sampling.vocabLimit = sampling.vocabLimit > 0 ? std::min<int64_t>(sampling.vocabLimit, m_tokenizer.vocabSize())
                                                      : m_tokenizer.vocabSize();
    Sampler sampler(sampling);
    TextStream stream(m_tokenizer, request.sampling.stopStrings,
                      request.promptIds.empty() ? -1 : request.promptIds.back());
    std::vector<int32_t> context = request.promptIds;

    const std::vector<int64_t> prompt(request.promptIds.begin(), request.promptIds.end());
    auto input = at::tensor(prompt, at::kLong).unsqueeze(0);
    auto stepInput = at::empty({1, 1}, at::kLong);
    const auto start = Clock::now();
    auto logits = m_model.prefill(input)[0];
    auto lastTokenTime = start;
    result.stopReason = budget < request.sampling.maxNewTokens ? StopReason::ContextFull : StopReason::MaxTokens;

    for (int64_t step = 0; step < budget; ++step) {
        if (cancel.isCancelled()) {
            result.stopReason = StopReason::Cancelled;
            break;
        }
        const int32_t token = sampler.sample(logits, context, result.tokens.size());
        const auto now = Clock::now();
        if (step == 0)
            result.prefillSeconds = std::chrono::duration<double>(now - start).count();
        lastTokenTime = now;
        const bool isEos = m_tokenizer.eosId() == token
                           || std::find(eosIds.begin(), eosIds.end(), token) != eosIds.end()
                           || std::find(request.stopTokenIds.begin(), request.stopTokenIds.end(), token)
                                  != request.stopTokenIds.end();
        if (request.stopAtEos && isEos) {
            result.stopReason = StopReason::Eos;
            break;
        }
        result.tokens.push_back(token);
        context.push_back(token);
        const std::string piece = stream.push(token);
        result.text += piece;
        if (!piece.empty() && sink && !sink(piece, token)) {
            result.stopReason = StopReason::Callback;
            break;
        }
        if (stream.stopped()) {
            result.stopReason = StopReason::StopString;
            break;
        }
        if (step + 1 == budget)
            break;
        stepInput.fill_(static_cast<int64_t>(token));
        logits = m_model.decodeStep(stepInput)[0];
    }
    if (!stream.stopped() && result.stopReason != StopReason::Callback) {
        const std::string tail = stream.flush();
        result.text += tail;
        if (!tail.empty() && sink)
            sink(tail, -1);
    }
    if (!result.tokens.empty())
        result.decodeSeconds = std::chrono::duration<double>(lastTokenTime - start).count() - result.prefillSeconds;
    return result;
}

} // namespace awq
