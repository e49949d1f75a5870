#include "awq/chat/chat_model.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "awq/core/error.h"
#include "awq/model/model_info.h"
#include "awq/nn/reference_model.h"
#include "awq/runtime/decoder_model.h"
#include "awq/runtime/devices.h"
#include "awq/runtime/loaded_model.h"
#include "awq/tokenizer/tokenizer.h"

namespace fs = std::filesystem;

namespace awq::chat {

namespace {

SamplingParams samplingFor(const ChatSettings &settings)
{
    SamplingParams p;
    p.temperature = settings.temperature;
    p.topP = settings.topP;
    p.topK = settings.topK;
    p.minP = settings.minP;
    p.repetitionPenalty = settings.repetitionPenalty;
    p.presencePenalty = settings.presencePenalty;
    p.frequencyPenalty = settings.frequencyPenalty;
    p.maxNewTokens = settings.maxNewTokens;
    p.seed = settings.randomSeed ? (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}() : settings.seed;
    p.stopStrings = settings.stopStrings;
    return p;
}

} // namespace

ChatModel::~ChatModel() = default;

std::unique_ptr<ChatModel> ChatModel::load(const fs::path &folder, const ProgressFn &progress,
                                           const CancelToken &cancel, const std::string &device)
{
    checkDevice(device);
    const auto start = std::chrono::steady_clock::now();
    const ModelInfo inspected = inspectModel(folder); // every problem, as awq info lists them
    if (!inspected.loadable())
        fail(ErrorCode::UnsupportedModel, folder.string(), ": ", inspected.problems.front());
    const ModelFolder opened = ModelFolder::open(folder);
    cancel.throwIfCancelled();
    // The engine's loader reports per tensor group; a cancel stops it at the next report.
    const ProgressFn forward = [&](const Progress &p) {
        cancel.throwIfCancelled();
        if (progress)
            progress(p);
    };
    // A GPU runs the CUDA decoder (fp16, the int4 weights packed) where the build has it, else
    // the layer-by-layer model in fp16 there (AWQ weights dequantized by loadLinear).
    LoadedModel loaded = loadModel(opened, loadTargetFor(device, DecoderKind::Fused), forward);
    cancel.throwIfCancelled();

    std::unique_ptr<ChatModel> chat(new ChatModel);
    chat->m_tokenizer = loaded.tokenizer;
    chat->m_prompts = std::make_unique<PromptBuilder>(*chat->m_tokenizer, folder);
    chat->m_model = makeDecoderOn(device, std::move(loaded.model), DecoderKind::Fused);

    ChatModelInfo &info = chat->m_info;
    info.folder = folder;
    info.device = device;
    info.description = chat->m_model->describe();
    info.precision = inspected.precisionSummary();
    info.contextLength = loaded.config.maxPositionEmbeddings;
    // Keys and values of every layer: float32 in the fused CPU decoder, fp16 on a GPU.
    info.kvCacheBytesPerToken = 2 * static_cast<uint64_t>(loaded.config.numLayers * loaded.config.kvDim()) * (device == "cpu" ? 4 : 2);
    info.hasTemplate = chat->m_prompts->hasTemplate();
    info.notice = chat->m_prompts->notice();
    info.weightBytes = chat->m_model->memory().weightBytes;
    info.loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return chat;
}

int64_t ChatModel::promptTokens(const std::vector<ChatMessage> &messages, const PromptOptions &options) const
{
    if (messages.empty())
        return 0;
    return static_cast<int64_t>(m_prompts->build(messages, true, options).ids.size());
}

int64_t ChatModel::contextFor(const ChatSettings &settings) const
{
    return settings.contextLength > 0 ? std::min(settings.contextLength, m_info.contextLength) : m_info.contextLength;
}

Reply ChatModel::reply(const std::vector<ChatMessage> &messages, const ChatSettings &settings, const TextSink &sink,
                       const CancelToken &cancel, const PromptOptions &options)
{
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    AWQ_CHECK(!messages.empty(), InvalidArgument, "there is no message to answer");
    const SamplingParams sampling = samplingFor(settings);
    sampling.validate();
    const int64_t context = contextFor(settings);
    // Room kept for the reply when older turns have to go: what was asked for, at most half
    // the context (the generator stops at the context's end in any case).
    const int64_t reserve = std::min<int64_t>(sampling.maxNewTokens, context / 2);

    // Leave out the oldest turns (never the system prompt nor the last message) until the
    // prompt and the reply fit the context.
    std::vector<ChatMessage> kept = messages;
    Reply reply;
    ChatPrompt prompt = m_prompts->build(kept, true, options);
    const size_t firstTurn = (!kept.empty() && kept.front().role == "system") ? 1 : 0;
    while (static_cast<int64_t>(prompt.ids.size()) + reserve > context && kept.size() > firstTurn + 1) {
        // Drop a user message together with the reply that followed it, so that roles keep alternating.
        size_t drop = 1;
        if (kept.size() > firstTurn + 2 && kept[firstTurn].role == "user" && kept[firstTurn + 1].role == "assistant")
            drop = 2;
        // Tool responses answer the turn before them: they go with it (never the last message).
        while (kept.size() > firstTurn + drop + 1 && kept[firstTurn + drop].role == "tool")
            ++drop;
        kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(firstTurn),
                   kept.begin() + static_cast<std::ptrdiff_t>(firstTurn + drop));
        reply.droppedMessages += static_cast<int64_t>(drop);
        prompt = m_prompts->build(kept, true, options);
    }
    AWQ_CHECK(static_cast<int64_t>(prompt.ids.size()) < context, InvalidArgument, "the message takes ",
              prompt.ids.size(), " tokens; the context holds ", context);

    GenerationRequest request;
    request.promptIds = prompt.ids;
    request.sampling = sampling;
    request.stopTokenIds = prompt.stopTokenIds;
    reply.promptText = prompt.text;
    reply.notice = prompt.notice;
    generate(request, context, sink, cancel, start, reply);
    return reply;
}

void ChatModel::generate(const GenerationRequest &request, int64_t context, const TextSink &sink,
                         const CancelToken &cancel, std::chrono::steady_clock::time_point start, Reply &reply)
{
    using Clock = std::chrono::steady_clock;
    Generator generator(*m_model, *m_tokenizer, context);
    const double setupSeconds = std::chrono::duration<double>(Clock::now() - start).count();
    const GenerationResult result = generator.generate(request, sink, cancel);
    reply.text = result.text;
    ReplyStats &stats = reply.stats;
    stats.promptTokens = result.promptTokens;
    stats.generatedTokens = static_cast<int64_t>(result.tokens.size());
    stats.timeToFirstTokenSeconds = setupSeconds + result.prefillSeconds;
    stats.promptTokensPerSecond = result.promptTokensPerSecond();
    stats.generationTokensPerSecond = result.decodeTokensPerSecond();
    stats.totalSeconds = std::chrono::duration<double>(Clock::now() - start).count();
    stats.stopReason = stopReasonName(result.stopReason);
    stats.seed = request.sampling.seed;
}

Reply ChatModel::complete(const std::string &prompt, const ChatSettings &settings, const TextSink &sink,
                          const CancelToken &cancel)
{
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const SamplingParams sampling = samplingFor(settings);
    sampling.validate();
    GenerationRequest request;
    request.promptIds = m_tokenizer->encode(prompt);
    AWQ_CHECK(!request.promptIds.empty(), InvalidArgument, "the prompt is empty");
    request.sampling = sampling;
    const int64_t context = contextFor(settings);
    AWQ_CHECK(static_cast<int64_t>(request.promptIds.size()) < context, InvalidArgument, "the prompt takes ",
              request.promptIds.size(), " tokens; the context holds ", context);
    Reply reply;
    reply.promptText = prompt;
    generate(request, context, sink, cancel, start, reply);
    return reply;
}

} // namespace awq::chat
