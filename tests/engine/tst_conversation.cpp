// The conversation document: JSON round trip, Markdown export, load errors that name the
// file, and atomic saves that leave nothing behind when they fail.

#include <QtTest>

#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "awq/chat/conversation.h"
#include "awq/chat/generation_defaults.h"
#include "awq/core/error.h"

using namespace awq;
using namespace awq::chat;
namespace fs = std::filesystem;

namespace {

Conversation sampleConversation()
{
    Conversation c;
    c.title = "Rope scaling questions";
    c.modelFolder = "/models/tiny-llama-awq";
    c.systemPrompt = "You are terse.";
    c.settings.temperature = 0.5;
    c.settings.topP = 0.95;
    c.settings.topK = 20;
    c.settings.repetitionPenalty = 1.05;
    c.settings.maxNewTokens = 512;
    c.settings.seed = 18446744073709551615ull;
    c.createdAt = "2024-07-26T09:30:00Z";
    c.turns.push_back({{"user", "What is RoPE?\nAnswer in \"one\" line, ünïcode ok."}, std::nullopt});
    ReplyStats stats;
    stats.promptTokens = 12;
    stats.generatedTokens = 34;
    stats.timeToFirstTokenSeconds = 0.126;
    stats.promptTokensPerSecond = 96.5;
    stats.generationTokensPerSecond = 25.26;
    stats.totalSeconds = 1.5;
    stats.stopReason = "eos";
    c.turns.push_back({{"assistant", "Rotary position embeddings."}, stats});
    c.turns.push_back({{"user", "Thanks"}, std::nullopt});
    return c;
}

fs::path freshDir(const std::string &tag)
{
    const char *root = std::getenv("AWQ_TEST_TMP");
    const fs::path dir = fs::path(root ? root : fs::temp_directory_path().string()) /
                         ("tst_conversation-" + tag);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::vector<std::string> entriesOf(const fs::path &dir)
{
    std::vector<std::string> names;
    for (const auto &entry : fs::directory_iterator(dir))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

void writeText(const fs::path &file, const std::string &text)
{
    std::ofstream(file, std::ios::binary) << text;
}

// Runs `f`, which must throw awq::Error with `code`; returns the message.
template <typename F>
std::string errorFrom(F &&f, ErrorCode code)
{
    try {
        f();
    } catch (const Error &e) {
        if (e.code() != code)
            return std::string("wrong code ") + errorCodeName(e.code()) + ": " + e.what();
        return e.what();
    }
    return "no error";
}

} // namespace

class TestConversation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void messagesPutTheSystemPromptFirst()
    {
        Conversation c = sampleConversation();
        auto messages = c.messages();
        QCOMPARE(messages.size(), size_t(4));
        QCOMPARE(messages[0].role, std::string("system"));
        QCOMPARE(messages[0].content, std::string("You are terse."));
        QCOMPARE(messages[2].role, std::string("assistant"));
        c.systemPrompt.clear();
        messages = c.messages();
        QCOMPARE(messages.size(), size_t(3));
        QCOMPARE(messages[0].role, std::string("user"));
    }

    void jsonIsVersionedAndRoundTrips()
    {
        const Conversation c = sampleConversation();
        const nlohmann::json json = toJson(c);
        QCOMPARE(json.at("format").get<std::string>(), std::string("awq-studio-conversation"));
        QCOMPARE(json.at("version").get<int>(), 1);
        QVERIFY(!json.at("turns")[0].contains("stats"));
        QVERIFY(json.at("turns")[1].contains("stats"));

        const Conversation back = conversationFromJson(nlohmann::json::parse(json.dump()), "memory");
        QCOMPARE(back.title, c.title);
        QCOMPARE(back.modelFolder, c.modelFolder);
        QCOMPARE(back.systemPrompt, c.systemPrompt);
        QCOMPARE(back.createdAt, c.createdAt);
        QCOMPARE(back.settings.temperature, 0.5);
        QCOMPARE(back.settings.topP, 0.95);
        QCOMPARE(back.settings.topK, int64_t(20));
        QCOMPARE(back.settings.repetitionPenalty, 1.05);
        QCOMPARE(back.settings.maxNewTokens, int64_t(512));
        QCOMPARE(back.settings.seed, uint64_t(18446744073709551615ull));
        QCOMPARE(back.turns.size(), c.turns.size());
        for (size_t i = 0; i < c.turns.size(); ++i) {
            QCOMPARE(back.turns[i].message.role, c.turns[i].message.role);
            QCOMPARE(back.turns[i].message.content, c.turns[i].message.content);
            QCOMPARE(back.turns[i].stats.has_value(), c.turns[i].stats.has_value());
        }
        const ReplyStats &s = *back.turns[1].stats;
        QCOMPARE(s.promptTokens, int64_t(12));
        QCOMPARE(s.generatedTokens, int64_t(34));
        QCOMPARE(s.timeToFirstTokenSeconds, 0.126);
        QCOMPARE(s.promptTokensPerSecond, 96.5);
        QCOMPARE(s.generationTokensPerSecond, 25.26);
        QCOMPARE(s.totalSeconds, 1.5);
        QCOMPARE(s.stopReason, std::string("eos"));
    }

    // Issue 23, bug 2 / bug 4: min-p, the penalties, the random-seed option, stop strings,
    // each reply's seed and the compare side survive a save; files from before them open.
    void newSettingsAndTheCompareSideRoundTrip()
    {
        Conversation c = sampleConversation();
        c.settings.minP = 0.05;
        c.settings.presencePenalty = 0.5;
        c.settings.frequencyPenalty = -0.25;
        c.settings.randomSeed = true;
        c.settings.stopStrings = {"\nUser:", "###"};
        c.settings.contextLength = 1536;
        c.turns[1].stats->seed = 987654321987ull;
        ConversationSide right;
        right.modelFolder = "/models/tiny-llama";
        right.turns = c.turns;
        right.turns[1].message.content = "Rotary embeddings, full precision.";
        c.compare = right;

        const Conversation back = conversationFromJson(nlohmann::json::parse(toJson(c).dump()), "memory");
        QCOMPARE(back.settings.minP, 0.05);
        QCOMPARE(back.settings.presencePenalty, 0.5);
        QCOMPARE(back.settings.frequencyPenalty, -0.25);
        QVERIFY(back.settings.randomSeed);
        QCOMPARE(back.settings.stopStrings, c.settings.stopStrings);
        QCOMPARE(back.settings.contextLength, int64_t(1536));
        QCOMPARE(back.turns[1].stats->seed, uint64_t(987654321987ull));
        QVERIFY(back.compare.has_value());
        QCOMPARE(back.compare->modelFolder, std::string("/models/tiny-llama"));
        QCOMPARE(back.compare->turns.size(), size_t(3));
        QCOMPARE(back.compare->turns[1].message.content, std::string("Rotary embeddings, full precision."));

        const std::string md = toMarkdown(c);
        QVERIFY(md.find("Rotary embeddings, full precision.") != std::string::npos);
        QVERIFY(md.find("Rotary position embeddings.") != std::string::npos);
        QVERIFY(md.find("/models/tiny-llama`") != std::string::npos);
        QVERIFY(md.find("seed random") != std::string::npos);
        QVERIFY(md.find("min-p 0.05") != std::string::npos);
        QVERIFY(md.find("context 1536 tokens") != std::string::npos);

        // A file written before these fields: it opens, with the defaults.
        nlohmann::json old = toJson(sampleConversation());
        for (const char *key : {"minP", "presencePenalty", "frequencyPenalty", "randomSeed", "stopStrings", "contextLength"})
            old["settings"].erase(key);
        old["turns"][1]["stats"].erase("seed");
        const Conversation before = conversationFromJson(old, "old.json");
        QCOMPARE(before.settings.minP, 0.0);
        QVERIFY(!before.settings.randomSeed);
        QVERIFY(before.settings.stopStrings.empty());
        QCOMPARE(before.settings.contextLength, int64_t(0));
        QVERIFY(!before.compare.has_value());
        QCOMPARE(before.turns[1].stats->seed, uint64_t(0));

        // Bad values name the field.
        nlohmann::json bad = toJson(c);
        bad["settings"]["randomSeed"] = "yes";
        QVERIFY_THROWS_EXCEPTION(Error, conversationFromJson(bad, "bad.json"));
        bad = toJson(c);
        bad["settings"]["contextLength"] = -1;
        QVERIFY_THROWS_EXCEPTION(Error, conversationFromJson(bad, "bad.json"));
        bad = toJson(c);
        bad["compare"]["turns"][0]["role"] = "robot";
        try {
            conversationFromJson(bad, "bad.json");
            QFAIL("a bad compare turn was accepted");
        } catch (const Error &e) {
            QVERIFY2(std::string(e.what()).find("compare.turns[0].role") != std::string::npos, e.what());
        }
    }

    // generation_config.json's sampling values, as transformers reads them.
    void generationDefaultsAreRead()
    {
        const fs::path dir = freshDir("generation");
        QVERIFY(!readGenerationDefaults(dir).has_value()); // no file: nothing
        writeText(dir / "generation_config.json",
                  R"({"do_sample": true, "temperature": 0.6, "top_p": 0.9, "top_k": null, "max_new_tokens": 64,
                      "repetition_penalty": 1.05, "bos_token_id": 1})");
        const std::optional<GenerationDefaults> d = readGenerationDefaults(dir);
        QVERIFY(d.has_value());
        QCOMPARE(*d->temperature, 0.6);
        QCOMPARE(*d->topP, 0.9);
        QVERIFY(!d->topK.has_value());
        QCOMPARE(*d->maxNewTokens, int64_t(64));
        ChatSettings s;
        s.topK = 7;
        s = applyGenerationDefaults(s, *d);
        QCOMPARE(s.temperature, 0.6);
        QCOMPARE(s.topK, int64_t(7)); // unset: kept
        QCOMPARE(s.repetitionPenalty, 1.05);
        QCOMPARE(s.maxNewTokens, int64_t(64));
        QVERIFY2(d->describe().find("temperature 0.6") != std::string::npos, d->describe().c_str());

        writeText(dir / "generation_config.json", R"({"do_sample": false, "temperature": 0.6})");
        QCOMPARE(applyGenerationDefaults(ChatSettings{}, *readGenerationDefaults(dir)).temperature, 0.0);

        writeText(dir / "generation_config.json", R"({"temperature": "hot"})");
        const std::string message = errorFrom([&] { readGenerationDefaults(dir); }, ErrorCode::Format);
        QVERIFY2(message.find("generation_config.json") != std::string::npos && message.find("temperature") != std::string::npos,
                 message.c_str());
    }

    void saveAndLoadRoundTripThroughAFile()
    {
        const fs::path dir = freshDir("roundtrip");
        const fs::path file = dir / "chat.json";
        Conversation c = sampleConversation();
        saveConversation(c, file);
        Conversation back = loadConversation(file);
        QCOMPARE(back.turns[0].message.content, c.turns[0].message.content);
        QCOMPARE(back.settings.seed, c.settings.seed);

        c.title = "Renamed";
        c.turns.pop_back();
        saveConversation(c, file); // replaces the earlier save
        back = loadConversation(file);
        QCOMPARE(back.title, std::string("Renamed"));
        QCOMPARE(back.turns.size(), size_t(2));
        QCOMPARE(entriesOf(dir), std::vector<std::string>{"chat.json"});
    }

    void markdownShowsEverything()
    {
        const std::string md = toMarkdown(sampleConversation());
        QVERIFY2(md.rfind("# Rope scaling questions\n", 0) == 0, md.c_str());
        QVERIFY(md.find("- Model: `/models/tiny-llama-awq`") != std::string::npos);
        QVERIFY(md.find("temperature 0.5, top-p 0.95, top-k 20, repetition penalty 1.05, max new tokens 512, seed 18446744073709551615") !=
                std::string::npos);
        const size_t system = md.find("**System**\n\nYou are terse.\n");
        const size_t user = md.find("**User**\n\nWhat is RoPE?\nAnswer in \"one\" line, ünïcode ok.\n");
        const size_t assistant = md.find("**Assistant**\n\nRotary position embeddings.\n");
        const size_t stats = md.find("*12 prompt tokens, 34 generated · first token 0.13 s · prompt 96.5 tok/s · "
                                     "generation 25.3 tok/s · 1.50 s total · stop: eos · seed 0*");
        const size_t lastUser = md.find("**User**\n\nThanks\n");
        QVERIFY2(system != std::string::npos && user != std::string::npos && assistant != std::string::npos &&
                     stats != std::string::npos && lastUser != std::string::npos,
                 md.c_str());
        QVERIFY(system < user && user < assistant && assistant < stats && stats < lastUser);
        // Exactly one statistics line: user turns have none.
        QCOMPARE(md.find("prompt tokens", lastUser), std::string::npos);
    }

    void loadErrorsNameTheFileAndTheProblem()
    {
        const fs::path dir = freshDir("errors");
        const fs::path missing = dir / "missing.json";
        std::string message = errorFrom([&] { loadConversation(missing); }, ErrorCode::NotFound);
        QVERIFY2(message.find(missing.string()) != std::string::npos, message.c_str());

        const fs::path notJson = dir / "garbage.json";
        writeText(notJson, "{ this is not json");
        message = errorFrom([&] { loadConversation(notJson); }, ErrorCode::Format);
        QVERIFY2(message.find(notJson.string()) != std::string::npos && message.find("not valid JSON") != std::string::npos,
                 message.c_str());

        nlohmann::json doc = toJson(sampleConversation());
        const fs::path wrongFormat = dir / "config.json";
        doc["format"] = "something-else";
        writeText(wrongFormat, doc.dump());
        message = errorFrom([&] { loadConversation(wrongFormat); }, ErrorCode::Format);
        QVERIFY2(message.find(wrongFormat.string()) != std::string::npos && message.find("'format'") != std::string::npos &&
                     message.find("something-else") != std::string::npos,
                 message.c_str());

        doc = toJson(sampleConversation());
        doc["version"] = 2;
        const fs::path newer = dir / "newer.json";
        writeText(newer, doc.dump());
        message = errorFrom([&] { loadConversation(newer); }, ErrorCode::Format);
        QVERIFY2(message.find(newer.string()) != std::string::npos && message.find("version 2") != std::string::npos,
                 message.c_str());

        doc = toJson(sampleConversation());
        doc["turns"][1]["content"] = 42;
        const fs::path badField = dir / "bad-field.json";
        writeText(badField, doc.dump());
        message = errorFrom([&] { loadConversation(badField); }, ErrorCode::Format);
        QVERIFY2(message.find(badField.string()) != std::string::npos && message.find("'turns[1].content'") != std::string::npos &&
                     message.find("must be a string") != std::string::npos,
                 message.c_str());

        doc = toJson(sampleConversation());
        doc["settings"]["topK"] = "forty";
        message = errorFrom([&] { conversationFromJson(doc, "settings.json"); }, ErrorCode::Format);
        QVERIFY2(message.find("settings.json") != std::string::npos && message.find("'settings.topK'") != std::string::npos,
                 message.c_str());

        doc = toJson(sampleConversation());
        doc["turns"][0]["role"] = "narrator";
        message = errorFrom([&] { conversationFromJson(doc, "roles.json"); }, ErrorCode::Format);
        QVERIFY2(message.find("'turns[0].role'") != std::string::npos && message.find("narrator") != std::string::npos,
                 message.c_str());

        doc = toJson(sampleConversation());
        doc.erase("turns");
        message = errorFrom([&] { conversationFromJson(doc, "no-turns.json"); }, ErrorCode::Format);
        QVERIFY2(message.find("'turns' is missing") != std::string::npos, message.c_str());
    }

    void failedSavesLeaveNothingBehind()
    {
        const fs::path dir = freshDir("save-fails");
        // The folder is a file: nothing can be created under it.
        writeText(dir / "not-a-folder", "x");
        const fs::path underFile = dir / "not-a-folder" / "chat.json";
        std::string message = errorFrom([&] { saveConversation(sampleConversation(), underFile); }, ErrorCode::Io);
        QVERIFY2(message.find(underFile.string()) != std::string::npos, message.c_str());

        // The target is a folder: writing succeeds, the rename fails, the partial file goes.
        fs::create_directory(dir / "taken.json");
        message = errorFrom([&] { saveConversation(sampleConversation(), dir / "taken.json"); }, ErrorCode::Io);
        QVERIFY2(message.find((dir / "taken.json").string()) != std::string::npos, message.c_str());
        QCOMPARE(entriesOf(dir), (std::vector<std::string>{"not-a-folder", "taken.json"}));
        QVERIFY(fs::is_empty(dir / "taken.json"));
    }

    void savingIntoAReadOnlyFolderFailsClearly()
    {
        if (::geteuid() == 0)
            QSKIP("root ignores folder permissions; the not-a-folder and folder-in-the-way cases cover the failure path");
        const fs::path dir = freshDir("read-only");
        fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
        const fs::path file = dir / "chat.json";
        const std::string message = errorFrom([&] { saveConversation(sampleConversation(), file); }, ErrorCode::Io);
        fs::permissions(dir, fs::perms::owner_all);
        QVERIFY2(message.find(file.string()) != std::string::npos && message.find("cannot save") != std::string::npos,
                 message.c_str());
        QVERIFY(fs::is_empty(dir));
    }
};

QTEST_APPLESS_MAIN(TestConversation)
#include "tst_conversation.moc"
