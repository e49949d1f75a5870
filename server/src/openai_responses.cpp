#include "awq/serve/openai_responses.h"

#include <chrono>
#include <cstdio>
#include <random>

namespace awq::serve {

using nlohmann::json;

std::string finishReason(const std::string &stopReason)
{
    // stopReasonName(): "max new tokens" and "context full" ran out of room; "end of
    // sequence" and "stop string" ended as the model or the client wanted.
    if (stopReason == "max new tokens" || stopReason == "context full")
        return "length";
    return "stop";
}

std::string makeCompletionId(const std::string &prefix)
{
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char hex[25];
    std::snprintf(hex, sizeof hex, "%016llx%08llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng() & 0xffffffffULL));
    return prefix + hex;
}

int64_t unixTime()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

json usageJson(const Usage &usage)
{
    return {{"prompt_tokens", usage.promptTokens},
            {"completion_tokens", usage.completionTokens},
            {"total_tokens", usage.promptTokens + usage.completionTokens}};
}

namespace {

json head(const ResponseHead &h, const char *object)
{
    return {{"id", h.id}, {"object", object}, {"created", h.created}, {"model", h.model},
            {"system_fingerprint", nullptr}};
}

json chunkWith(const ResponseHead &h, json delta, const std::string *finish)
{
    json chunk = head(h, "chat.completion.chunk");
    chunk["choices"] = json::array({{{"index", 0},
                                     {"delta", std::move(delta)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", finish ? json(*finish) : json(nullptr)}}});
    return chunk;
}

} // namespace

json chatCompletion(const ResponseHead &h, const std::string &text, const std::string &finish, const Usage &usage)
{
    json body = head(h, "chat.completion");
    body["choices"] = json::array({{{"index", 0},
                                    {"message", {{"role", "assistant"}, {"content", text}}},
                                    {"logprobs", nullptr},
                                    {"finish_reason", finish}}});
    body["usage"] = usageJson(usage);
    return body;
}

json chatChunkRole(const ResponseHead &h)
{
    return chunkWith(h, {{"role", "assistant"}, {"content", ""}}, nullptr);
}

json chatChunkContent(const ResponseHead &h, const std::string &piece)
{
    return chunkWith(h, {{"content", piece}}, nullptr);
}

json chatChunkFinish(const ResponseHead &h, const std::string &finish)
{
    return chunkWith(h, json::object(), &finish);
}

json usageChunk(const ResponseHead &h, const char *object, const Usage &usage)
{
    json chunk = head(h, object);
    chunk["choices"] = json::array();
    chunk["usage"] = usageJson(usage);
    return chunk;
}

json textCompletion(const ResponseHead &h, const std::string &text, const std::string &finish, const Usage &usage)
{
    json body = head(h, "text_completion");
    body["choices"] = json::array({{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish}}});
    body["usage"] = usageJson(usage);
    return body;
}

json textChunk(const ResponseHead &h, const std::string &piece, const std::string *finish)
{
    json chunk = head(h, "text_completion");
    chunk["choices"] = json::array({{{"index", 0},
                                     {"text", piece},
                                     {"logprobs", nullptr},
                                     {"finish_reason", finish ? json(*finish) : json(nullptr)}}});
    return chunk;
}

json modelList(const std::string &modelId, int64_t created, int64_t contextLength)
{
    return {{"object", "list"},
            {"data", json::array({{{"id", modelId},
                                   {"object", "model"},
                                   {"created", created},
                                   {"owned_by", "awq-studio"},
                                   {"context_length", contextLength}}})}};
}

std::string dumpJson(const json &payload)
{
    return payload.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string sseEvent(const json &payload)
{
    return "data: " + dumpJson(payload) + "\n\n";
}

} // namespace awq::serve
