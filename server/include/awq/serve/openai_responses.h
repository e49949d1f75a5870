#pragma once
// The JSON bodies this server answers with, in OpenAI's shapes: chat completions and their
// streamed chunks ("chat.completion.chunk", sent as server-sent events ending with
// "data: [DONE]"), text completions, the model list. Pure functions.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "awq/chat/conversation.h"

namespace awq::serve {

struct Usage {
    int64_t promptTokens = 0, completionTokens = 0;
};

// OpenAI's finish_reason for a ReplyStats::stopReason: "stop" (end of sequence, a stop
// string), "length" (max tokens, the context's end).
std::string finishReason(const std::string &stopReason);

// A fresh id such as "chatcmpl-3f9a0c..." (random, 24 hex digits after the prefix).
std::string makeCompletionId(const std::string &prefix);
int64_t unixTime();

nlohmann::json usageJson(const Usage &usage);

// Everything a response shares: id, created, model.
struct ResponseHead {
    std::string id, model;
    int64_t created = 0;
};

nlohmann::json chatCompletion(const ResponseHead &head, const std::string &text, const std::string &finish,
                              const Usage &usage);
// One streamed chunk: the role opens the stream (role "assistant", content ""), then a content
// delta per piece, then an empty delta with the finish reason.
nlohmann::json chatChunkRole(const ResponseHead &head);
nlohmann::json chatChunkContent(const ResponseHead &head, const std::string &piece);
nlohmann::json chatChunkFinish(const ResponseHead &head, const std::string &finish);
// The extra chunk stream_options.include_usage asks for: no choices, the usage.
nlohmann::json usageChunk(const ResponseHead &head, const char *object, const Usage &usage);

nlohmann::json textCompletion(const ResponseHead &head, const std::string &text, const std::string &finish,
                              const Usage &usage);
nlohmann::json textChunk(const ResponseHead &head, const std::string &piece, const std::string *finish);

nlohmann::json modelList(const std::string &modelId, int64_t created, int64_t contextLength);

// "data: <json>\n\n": one server-sent event. The JSON is dumped with invalid UTF-8 replaced
// (a piece is whole UTF-8 characters, but a prompt or a model may hold stray bytes).
std::string sseEvent(const nlohmann::json &payload);
inline constexpr const char *kSseDone = "data: [DONE]\n\n";
// The body text of a JSON response, invalid UTF-8 replaced rather than thrown on.
std::string dumpJson(const nlohmann::json &payload);

} // namespace awq::serve
