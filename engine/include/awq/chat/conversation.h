#pragma once
// A chat conversation as the chat window keeps it and saves it: the model, the system
// prompt, the sampling settings and the turns, with timing statistics under each reply.
// Saved as versioned JSON ({"format": "awq-studio-conversation", "version": 1, ...});
// exported as Markdown. Fields added later (min-p, the penalties, the random-seed option,
// stop strings, the context length, each reply's seed, the compare side) are optional when read, so files
// saved before them open with the defaults.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "awq/chat/chat_template.h"

namespace awq::chat {

struct ReplyStats
{
    int64_t promptTokens = 0, generatedTokens = 0;
    double timeToFirstTokenSeconds = 0, promptTokensPerSecond = 0, generationTokensPerSecond = 0, totalSeconds = 0;
    std::string stopReason; // e.g. "eos", "max tokens", "stopped"
    uint64_t seed = 0;      // the seed the reply was sampled with (drawn when ChatSettings::randomSeed)
};

struct ConversationTurn
{
    ChatMessage message;
    std::optional<ReplyStats> stats; // assistant replies only
};

struct ChatSettings
{
    double temperature = 0.7;
    double topP = 0.9;
    int64_t topK = 40;
    double minP = 0.0;              // 0: off (see SamplingParams::minP)
    double repetitionPenalty = 1.1;
    double presencePenalty = 0.0;   // OpenAI's penalties over the reply so far; 0: off
    double frequencyPenalty = 0.0;
    int64_t maxNewTokens = 256;
    uint64_t seed = 0;              // used when randomSeed is false
    bool randomSeed = false;        // draw a new seed for every reply (ReplyStats::seed says which)
    std::vector<std::string> stopStrings;
    // Tokens the conversation may take (prompt and reply: the decoder's KV cache holds at
    // most this many); 0 or more than the model's max_position_embeddings: the model's.
    int64_t contextLength = 0;
};

// The second model's side of a conversation held in compare mode: the same user messages,
// that model's replies.
struct ConversationSide
{
    std::string modelFolder;
    std::vector<ConversationTurn> turns;
};

struct Conversation
{
    std::string title;
    std::string modelFolder;
    std::string systemPrompt;
    ChatSettings settings;
    std::vector<ConversationTurn> turns;
    std::string createdAt; // ISO 8601 UTC, e.g. "2024-07-26T09:30:00Z"
    std::optional<ConversationSide> compare; // compare mode: the model on the right

    // The system prompt (if non-empty) first, then the turns: what a chat template renders.
    std::vector<ChatMessage> messages() const;
};

inline constexpr const char *kConversationFormat = "awq-studio-conversation";
inline constexpr int kConversationVersion = 1;

// The current time as ISO 8601 UTC ("2024-07-26T09:30:00Z"), for createdAt.
std::string currentUtcTimestamp();

nlohmann::json toJson(const Conversation &conversation);
// Throws awq::Error(Format) naming `sourceName` and the bad field ("chat.json: field
// 'turns[2].role' must be a string").
Conversation conversationFromJson(const nlohmann::json &json, const std::string &sourceName);

// Atomic: writes a temporary file in the same folder, then renames it over `file`; on any
// failure (no permission, disk full) throws awq::Error(Io) naming the file and leaves
// neither a partial file nor a changed `file` behind.
void saveConversation(const Conversation &conversation, const std::filesystem::path &file);
// Errors name the file and the problem: NotFound (missing), Format (not JSON, wrong format
// or version, bad field), Io (unreadable).
Conversation loadConversation(const std::filesystem::path &file);

// A title heading, the model, a settings line, the system prompt, then each turn as a
// "**User**" / "**Assistant**" section, with a statistics line under each reply. In
// compare mode both sides follow, each under a heading naming its model.
std::string toMarkdown(const Conversation &conversation);

} // namespace awq::chat
