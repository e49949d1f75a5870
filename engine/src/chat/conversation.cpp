#include "awq/chat/conversation.h"


#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <system_error>
#include <type_traits>

#include "awq/core/error.h"
#include "awq/io/json_file.h"

namespace awq::chat {

namespace fs = std::filesystem;

std::vector<ChatMessage> Conversation::messages() const
{
    std::vector<ChatMessage> out;
    if (!systemPrompt.empty())
        out.push_back({"system", systemPrompt});
    for (const ConversationTurn &turn : turns)
        out.push_back(turn.message);
    return out;
}

std::string currentUtcTimestamp()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
}

namespace {

nlohmann::json turnsToJson(const std::vector<ConversationTurn> &turns)
{
    nlohmann::json out = nlohmann::json::array();
    for (const ConversationTurn &turn : turns) {
        nlohmann::json t = {{"role", turn.message.role}, {"content", turn.message.content}};
        if (turn.stats) {
            const ReplyStats &s = *turn.stats;
            t["stats"] = {{"promptTokens", s.promptTokens},
                          {"generatedTokens", s.generatedTokens},
                          {"timeToFirstTokenSeconds", s.timeToFirstTokenSeconds},
                          {"promptTokensPerSecond", s.promptTokensPerSecond},
                          {"generationTokensPerSecond", s.generationTokensPerSecond},
                          {"totalSeconds", s.totalSeconds},
                          {"stopReason", s.stopReason},
                          {"seed", s.seed}};
        }
        out.push_back(std::move(t));
    }
    return out;
}

} // namespace

nlohmann::json toJson(const Conversation &c)
{
    const ChatSettings &s = c.settings;
    nlohmann::json json = {{"format", kConversationFormat},
                           {"version", kConversationVersion},
                           {"title", c.title},
                           {"modelFolder", c.modelFolder},
                           {"createdAt", c.createdAt},
                           {"systemPrompt", c.systemPrompt},
                           {"settings",
                            {{"temperature", s.temperature},
                             {"topP", s.topP},
                             {"topK", s.topK},
                             {"minP", s.minP},
                             {"repetitionPenalty", s.repetitionPenalty},
                             {"presencePenalty", s.presencePenalty},
                             {"frequencyPenalty", s.frequencyPenalty},
                             {"maxNewTokens", s.maxNewTokens},
                             {"seed", s.seed},
                             {"randomSeed", s.randomSeed},
                             {"stopStrings", s.stopStrings},
                             {"contextLength", s.contextLength}}},
                           {"turns", turnsToJson(c.turns)}};
    if (c.compare)
        json["compare"] = {{"modelFolder", c.compare->modelFolder}, {"turns", turnsToJson(c.compare->turns)}};
    return json;
}

namespace {

constexpr int64_t kMaxCount = int64_t(1) << 32;      // token counts and top-k
constexpr int64_t kMaxNewTokens = int64_t(1) << 20;  // far above any context length
constexpr double kMaxStat = 1e12;                    // seconds and tokens per second

// Reads typed fields of one JSON object, naming the source and the field path in errors.
class FieldReader
{
public:
    FieldReader(const nlohmann::json &object, std::string source, std::string path)
        : m_object(object), m_source(std::move(source)), m_path(std::move(path))
    {
        if (!m_object.is_object())
            fail(ErrorCode::Format, m_source, ": ", m_path.empty() ? std::string("the document") : "field '" + m_path + "'",
                 " must be a JSON object");
    }

    std::string field(const std::string &key) const { return m_path.empty() ? key : m_path + "." + key; }

    const nlohmann::json *find(const std::string &key, bool required) const
    {
        const auto it = m_object.find(key);
        if (it == m_object.end()) {
            if (required)
                fail(ErrorCode::Format, m_source, ": field '", field(key), "' is missing");
            return nullptr;
        }
        return &*it;
    }

    void readString(const std::string &key, std::string &out, bool required = false) const
    {
        if (const nlohmann::json *v = find(key, required)) {
            if (!v->is_string())
                fail(ErrorCode::Format, m_source, ": field '", field(key), "' must be a string");
            out = v->get<std::string>();
        }
    }

    // A finite number in [min, max] (in (min, max] with minExclusive).
    void readNumber(const std::string &key, double &out, double min, double max, bool minExclusive = false) const
    {
        if (const nlohmann::json *v = find(key, false)) {
            if (!v->is_number())
                fail(ErrorCode::Format, m_source, ": field '", field(key), "' must be a number");
            const double value = v->get<double>();
            if (!std::isfinite(value) || value < min || value > max || (minExclusive && value == min))
                fail(ErrorCode::Format, m_source, ": field '", field(key), "' = ", value, " is out of range ",
                     minExclusive ? "(" : "[", min, ", ", max, "]");
            out = value;
        }
    }

    void readBool(const std::string &key, bool &out) const
    {
        if (const nlohmann::json *v = find(key, false)) {
            if (!v->is_boolean())
                fail(ErrorCode::Format, m_source, ": field '", field(key), "' must be true or false");
            out = v->get<bool>();
        }
    }

    void readStringList(const std::string &key, std::vector<std::string> &out) const
    {
        if (const nlohmann::json *v = find(key, false)) {
            if (!v->is_array())
                fail(ErrorCode::Format, m_source, ": field '", field(key), "' must be a list of strings");
            std::vector<std::string> values;
            for (size_t i = 0; i < v->size(); ++i) {
                if (!(*v)[i].is_string())
                    fail(ErrorCode::Format, m_source, ": field '", field(key), "[", i, "]' must be a string");
                values.push_back((*v)[i].get<std::string>());
            }
            out = std::move(values);
        }
    }

    template <typename Int>
    void readInteger(const std::string &key, Int &out, Int min = std::numeric_limits<Int>::min(),
                     Int max = std::numeric_limits<Int>::max()) const
    {
        if (const nlohmann::json *v = find(key, false)) {
            const bool fits = std::is_signed<Int>::value
                                  ? v->is_number_integer() && !(v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))
                                  : v->is_number_unsigned();
            if (!fits)
                fail(ErrorCode::Format, m_source, ": field '", field(key), "' must be ",
                     std::is_signed<Int>::value ? "an integer" : "a non-negative integer");
            const Int value = v->get<Int>();
            if (value < min || value > max)
                fail(ErrorCode::Format, m_source, ": field '", field(key), "' = ", value, " is out of range [", min,
                     ", ", max, "]");
            out = value;
        }
    }

private:
    const nlohmann::json &m_object;
    std::string m_source, m_path;
};

} // namespace

namespace {

std::vector<ConversationTurn> turnsFromJson(const nlohmann::json &turns, const std::string &sourceName,
                                            const std::string &field)
{
    AWQ_CHECK(turns.is_array(), Format, sourceName, ": field '", field, "' must be a list");
    std::vector<ConversationTurn> out;
    for (size_t i = 0; i < turns.size(); ++i) {
        const std::string path = field + "[" + std::to_string(i) + "]";
        const FieldReader t(turns[i], sourceName, path);
        ConversationTurn turn;
        t.readString("role", turn.message.role, true);
        AWQ_CHECK(turn.message.role == "system" || turn.message.role == "user" || turn.message.role == "assistant", Format,
                  sourceName, ": field '", path, ".role' must be \"system\", \"user\" or \"assistant\", not \"",
                  turn.message.role, "\"");
        t.readString("content", turn.message.content, true);
        if (const nlohmann::json *stats = t.find("stats", false); stats && !stats->is_null()) {
            const FieldReader s(*stats, sourceName, path + ".stats");
            ReplyStats r;
            s.readInteger<int64_t>("promptTokens", r.promptTokens, 0, kMaxCount);
            s.readInteger<int64_t>("generatedTokens", r.generatedTokens, 0, kMaxCount);
            s.readNumber("timeToFirstTokenSeconds", r.timeToFirstTokenSeconds, 0.0, kMaxStat);
            s.readNumber("promptTokensPerSecond", r.promptTokensPerSecond, 0.0, kMaxStat);
            s.readNumber("generationTokensPerSecond", r.generationTokensPerSecond, 0.0, kMaxStat);
            s.readNumber("totalSeconds", r.totalSeconds, 0.0, kMaxStat);
            s.readString("stopReason", r.stopReason);
            s.readInteger("seed", r.seed);
            turn.stats = r;
        }
        out.push_back(std::move(turn));
    }
    return out;
}

} // namespace

Conversation conversationFromJson(const nlohmann::json &json, const std::string &sourceName)
{
    const FieldReader doc(json, sourceName, "");
    std::string format;
    doc.readString("format", format, true);
    AWQ_CHECK(format == kConversationFormat, Format, sourceName, ": not an AWQ Studio conversation (field 'format' is '",
              format, "', expected '", kConversationFormat, "')");
    int64_t version = 0;
    doc.find("version", true);
    doc.readInteger("version", version);
    AWQ_CHECK(version == kConversationVersion, Format, sourceName, ": conversation format version ", version,
              " is not supported (this AWQ Studio reads version ", kConversationVersion, ")");

    Conversation c;
    doc.readString("title", c.title);
    doc.readString("modelFolder", c.modelFolder);
    doc.readString("createdAt", c.createdAt);
    doc.readString("systemPrompt", c.systemPrompt);
    if (const nlohmann::json *settings = doc.find("settings", false)) {
        const FieldReader s(*settings, sourceName, "settings");
        // The ranges the sampler accepts, with generous upper bounds.
        s.readNumber("temperature", c.settings.temperature, 0.0, 100.0);
        s.readNumber("topP", c.settings.topP, 0.0, 1.0, true);
        s.readInteger<int64_t>("topK", c.settings.topK, 0, kMaxCount);
        s.readNumber("repetitionPenalty", c.settings.repetitionPenalty, 0.0, 100.0, true);
        s.readInteger<int64_t>("maxNewTokens", c.settings.maxNewTokens, 1, kMaxNewTokens);
        s.readInteger("seed", c.settings.seed);
        s.readNumber("minP", c.settings.minP, 0.0, 1.0);
        s.readNumber("presencePenalty", c.settings.presencePenalty, -2.0, 2.0);
        s.readNumber("frequencyPenalty", c.settings.frequencyPenalty, -2.0, 2.0);
        s.readBool("randomSeed", c.settings.randomSeed);
        s.readStringList("stopStrings", c.settings.stopStrings);
        s.readInteger<int64_t>("contextLength", c.settings.contextLength, 0, kMaxNewTokens);
    }
    c.turns = turnsFromJson(*doc.find("turns", true), sourceName, "turns");
    if (const nlohmann::json *compare = doc.find("compare", false); compare && !compare->is_null()) {
        const FieldReader side(*compare, sourceName, "compare");
        ConversationSide other;
        side.readString("modelFolder", other.modelFolder);
        other.turns = turnsFromJson(*side.find("turns", true), sourceName, "compare.turns");
        c.compare = std::move(other);
    }
    return c;
}

void saveConversation(const Conversation &conversation, const fs::path &file)
{
    AWQ_CHECK(!file.filename().empty(), InvalidArgument, file.string(), ": not a file name");
    try {
        writeJsonFile(file, toJson(conversation)); // atomic: an existing save stays intact on failure
    } catch (const Error &e) {
        fail(ErrorCode::Io, file.string(), ": cannot save the conversation (", e.what(), ")");
    }
}

Conversation loadConversation(const fs::path &file)
{
    return conversationFromJson(readJsonFile(file), file.string());
}

namespace {

std::string formatFixed(double value, int decimals)
{
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}

std::string formatShort(double value)
{
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%g", value);
    return buffer;
}

std::string statsLine(const ReplyStats &s)
{
    std::string line = "*" + std::to_string(s.promptTokens) + " prompt tokens, " + std::to_string(s.generatedTokens) +
                       " generated · first token " + formatFixed(s.timeToFirstTokenSeconds, 2) + " s · prompt " +
                       formatFixed(s.promptTokensPerSecond, 1) + " tok/s · generation " +
                       formatFixed(s.generationTokensPerSecond, 1) + " tok/s · " + formatFixed(s.totalSeconds, 2) + " s total";
    if (!s.stopReason.empty())
        line += " · stop: " + s.stopReason;
    line += " · seed " + std::to_string(s.seed);
    return line + "*";
}

std::string roleHeading(const std::string &role)
{
    if (role == "user")
        return "**User**";
    if (role == "assistant")
        return "**Assistant**";
    return "**System**";
}

std::string turnsToMarkdown(const std::vector<ConversationTurn> &turns)
{
    std::string md;
    for (const ConversationTurn &turn : turns) {
        md += "\n" + roleHeading(turn.message.role) + "\n\n" + turn.message.content + "\n";
        if (turn.stats)
            md += "\n" + statsLine(*turn.stats) + "\n";
    }
    return md;
}

} // namespace

std::string toMarkdown(const Conversation &c)
{
    const ChatSettings &s = c.settings;
    std::string md = "# " + (c.title.empty() ? std::string("Conversation") : c.title) + "\n\n";
    md += "- Model: `" + c.modelFolder + "`\n";
    if (c.compare)
        md += "- Compared with: `" + c.compare->modelFolder + "`\n";
    if (!c.createdAt.empty())
        md += "- Created: " + c.createdAt + "\n";
    md += "- Settings: temperature " + formatShort(s.temperature) + ", top-p " + formatShort(s.topP) + ", top-k " +
          std::to_string(s.topK) + ", repetition penalty " + formatShort(s.repetitionPenalty) + ", max new tokens " +
          std::to_string(s.maxNewTokens) + ", seed " + (s.randomSeed ? std::string("random") : std::to_string(s.seed));
    if (s.minP > 0)
        md += ", min-p " + formatShort(s.minP);
    if (s.presencePenalty != 0)
        md += ", presence penalty " + formatShort(s.presencePenalty);
    if (s.frequencyPenalty != 0)
        md += ", frequency penalty " + formatShort(s.frequencyPenalty);
    if (s.contextLength > 0)
        md += ", context " + std::to_string(s.contextLength) + " tokens";
    md += "\n";
    if (!c.systemPrompt.empty())
        md += "\n**System**\n\n" + c.systemPrompt + "\n";
    if (!c.compare)
        return md + turnsToMarkdown(c.turns);
    md += "\n## `" + c.modelFolder + "`\n" + turnsToMarkdown(c.turns);
    md += "\n## `" + c.compare->modelFolder + "`\n" + turnsToMarkdown(c.compare->turns);
    return md;
}

} // namespace awq::chat
