#pragma once
// Parsing and validation of the OpenAI request bodies this server answers
// (POST /v1/chat/completions and POST /v1/completions). Pure functions of the body text:
// every problem throws ApiError(400) naming the field ("'temperature' must be a number
// between 0 and 2"), never anything else, so that bad input can never become a 500.
//
// Sampling follows OpenAI's defaults where a field is absent (temperature 1, top_p 1, no
// penalties, a fresh random seed); top_k, min_p and repetition_penalty are accepted as
// llama.cpp and vLLM accept them. Tools reach the chat template: "tools" (with tool_choice
// "auto", or "none" to leave them out), assistant turns with "tool_calls" and
// "reasoning_content", "tool" turns with "tool_call_id", and vLLM's
// "chat_template_kwargs": {"enable_thinking": ...}; the reply is the model's text as it
// writes it (a call in its template's format is not parsed into "tool_calls"). Fields that
// ask for something this server does not do (n > 1, a forced tool_choice, the older
// "functions", logprobs, a JSON response format, logit_bias, echo) are refused with 400
// rather than silently ignored; unknown fields are ignored as OpenAI's own SDKs add new ones.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "awq/chat/chat_template.h"
#include "awq/chat/conversation.h"

namespace awq::serve {

struct RequestLimits {
    size_t maxMessages = 256;       // messages in one chat request
    size_t maxStopStrings = 4;      // as OpenAI
    size_t maxStopLength = 256;     // bytes per stop string
    size_t maxPromptBytes = 512 * 1024; // the prompt / all message contents together
};

struct GenerationOptions {
    std::string model;                  // empty when the request named none
    chat::ChatSettings settings;        // maxNewTokens is 0 when max_tokens was not given
    bool stream = false;
    bool includeUsage = false;          // stream_options.include_usage
};

struct ChatCompletionRequest {
    std::vector<chat::ChatMessage> messages;
    chat::PromptOptions templateOptions; // tools (as the client ordered them), enable_thinking
    GenerationOptions options;
};

struct CompletionRequest {
    std::string prompt;
    GenerationOptions options;
};

ChatCompletionRequest parseChatCompletionRequest(const std::string &body, const RequestLimits &limits = {});
CompletionRequest parseCompletionRequest(const std::string &body, const RequestLimits &limits = {});

// Sets settings.maxNewTokens for a prompt of `promptTokens` in a context of `context` tokens:
// the request's max_tokens, or all the room left when it gave none. Throws ApiError(400) in
// OpenAI's words when the prompt and max_tokens do not fit the context.
void fitToContext(GenerationOptions &options, int64_t promptTokens, int64_t context);

} // namespace awq::serve
