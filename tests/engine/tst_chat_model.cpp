// The chat engine: prompts built from a model folder's chat template (special tokens
// written as text become their ids), the plain-text fallback, and ChatModel answering a
// conversation on the bundled demo model — streaming, stopping, and fitting long
// conversations into the context.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <QtTest>
#include <nlohmann/json.hpp>

#include "awq/chat/chat_model.h"
#include "awq/chat/chat_prompt.h"
#include "awq/io/json_file.h"
#include "awq/model/config.h"
#include "awq/runtime/devices.h"
#include "awq/runtime/resources.h"
#include "awq/tokenizer/bos_rule.h"
#include "awq/tokenizer/tokenizer.h"
#include "fixture_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace awq;
using namespace awq::chat;
using awq::test::catchError;
using awq::test::contains;

class TestChatModel : public QObject
{
    Q_OBJECT

    fs::path m_demo;
    fs::path m_tmp;
    std::unique_ptr<ChatModel> m_model;

    // A copy of the demo model whose tokenizer_config.json has `edit` applied.
    fs::path demoCopy(const std::string &name, const std::function<void(nlohmann::json &)> &edit)
    {
        const fs::path folder = m_tmp / name;
        fs::remove_all(folder);
        fs::create_directories(folder);
        for (const auto &entry : fs::directory_iterator(m_demo))
            fs::copy_file(entry.path(), folder / entry.path().filename());
        nlohmann::json config = readJsonFile(folder / "tokenizer_config.json");
        edit(config);
        writeJsonFile(folder / "tokenizer_config.json", config);
        return folder;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_demo = findData(kDemoModelPath);
        QVERIFY2(!m_demo.empty(), "the demo model is not in any data folder");
        const QByteArray tmp = qgetenv("AWQ_TEST_TMP");
        m_tmp = fs::path(tmp.isEmpty() ? fs::temp_directory_path().string() : tmp.toStdString()) / "chat_model";
        fs::create_directories(m_tmp);
        m_model = ChatModel::load(m_demo);
        QVERIFY(m_model != nullptr);
    }

    void specialTokensWrittenAsTextBecomeTheirIds()
    {
        const Tokenizer &tok = m_model->tokenizer();
        const std::vector<int32_t> ids = m_model->promptBuilder().encodeWithSpecialTokens("<s>the city</s>of the");
        std::vector<int32_t> expected = {tok.bosId()};
        for (int32_t id : tok.encode("the city", false))
            expected.push_back(id);
        expected.push_back(tok.eosId());
        for (int32_t id : tok.encode("of the", false))
            expected.push_back(id);
        QCOMPARE(ids, expected);
        // No special token at all: the same as a plain encode without BOS.
        QCOMPARE(m_model->promptBuilder().encodeWithSpecialTokens("a plain < text"), tok.encode("a plain < text", false));
    }

    void demoTemplateRendersTheConversation()
    {
        QVERIFY(m_model->info().hasTemplate);
        QVERIFY(m_model->info().notice.empty());
        const std::vector<ChatMessage> messages = {
            {"system", "Be brief."}, {"user", "Who came?"}, {"assistant", "The jury."}, {"user", "When?"}};
        const ChatPrompt prompt = m_model->promptBuilder().build(messages);
        QVERIFY(prompt.fromTemplate);
        QCOMPARE(prompt.text, std::string("Be brief.\n\nQuestion: Who came?\nAnswer: The jury.</s>\nQuestion: When?\n"
                                          "Answer:"));
        // The reply's end is the EOS id, once, and the template writes no BOS of its own.
        const int32_t eos = m_model->tokenizer().eosId();
        QCOMPARE(std::count(prompt.ids.begin(), prompt.ids.end(), eos), std::ptrdiff_t(1));
        QVERIFY(prompt.ids.front() != m_model->tokenizer().bosId());
        QCOMPARE(m_model->promptTokens(messages), int64_t(prompt.ids.size()));
    }

    void withoutTemplateTheConversationIsPlainText()
    {
        const fs::path folder = demoCopy("no-template", [](nlohmann::json &c) { c.erase("chat_template"); });
        const std::unique_ptr<Tokenizer> tok = Tokenizer::load(folder);
        const PromptBuilder builder(*tok, folder);
        QVERIFY(!builder.hasTemplate());
        QVERIFY(contains(builder.notice(), "no chat template"));
        const std::vector<ChatMessage> messages = {
            {"system", "Notes"}, {"user", "The city"}, {"assistant", " council met."}, {"user", "Then"}};
        QCOMPARE(joinAsPlainText(messages), std::string("Notes\n\nThe city council met.\nThen"));
        const ChatPrompt prompt = builder.build(messages);
        QVERIFY(!prompt.fromTemplate);
        QCOMPARE(prompt.ids, tok->encode(prompt.text)); // with the model's BOS
    }

    // One BOS rule (awq/tokenizer/bos_rule.h) for the chat without a template, awq generate
    // and awq perplexity (their command-line check is in cli_smoke): the model's
    // add_bos_token, which --bos / --no-bos override.
    void plainTextPromptFollowsTheModelsBos()
    {
        const std::string text = "The city council";
        for (bool add : {true, false}) {
            const fs::path folder = demoCopy(add ? "bos-on" : "bos-off", [&](nlohmann::json &c) {
                c.erase("chat_template");
                c["add_bos_token"] = add;
            });
            const std::unique_ptr<Tokenizer> tok = Tokenizer::load(folder);
            const ChatPrompt prompt = PromptBuilder(*tok, folder).build({{"user", text}});
            QCOMPARE(prompt.ids, encodeText(*tok, text));
            QCOMPARE(prompt.ids.front() == tok->bosId(), add);
            QCOMPARE(addsBos(*tok, BosMode::ModelDefault), add);
            QCOMPARE(encodeText(*tok, text, BosMode::Add).front(), tok->bosId());
            QCOMPARE(encodeText(*tok, text, BosMode::Omit), tok->encode(text, false));
        }
    }

    void brokenTemplateFallsBackWithANoticeNamingTheFile()
    {
        const fs::path folder =
            demoCopy("broken-template", [](nlohmann::json &c) { c["chat_template"] = "{% for m in messages %}{{ m"; });
        const std::unique_ptr<Tokenizer> tok = Tokenizer::load(folder);
        const PromptBuilder builder(*tok, folder);
        QVERIFY(!builder.hasTemplate());
        QVERIFY2(contains(builder.notice(), (folder / "tokenizer_config.json").string()), builder.notice().c_str());
        QVERIFY(!builder.build({{"user", "hello"}}).ids.empty());
    }

    void aTemplateWithoutSystemRoleGetsTheSystemPromptInTheFirstMessage()
    {
        std::ifstream in(std::string(AWQ_SOURCE_DIR) + "/tests/data/chat_templates/gemma-7b-it.jinja");
        std::ostringstream gemma;
        gemma << in.rdbuf();
        QVERIFY(!gemma.str().empty());
        const fs::path folder = demoCopy("gemma-template", [&](nlohmann::json &c) { c["chat_template"] = gemma.str(); });
        const std::unique_ptr<Tokenizer> tok = Tokenizer::load(folder);
        const PromptBuilder builder(*tok, folder);
        QVERIFY(builder.hasTemplate());
        const ChatPrompt prompt = builder.build({{"system", "Be brief."}, {"user", "hi"}});
        QVERIFY2(contains(prompt.text, "<start_of_turn>user\nBe brief.\n\nhi<end_of_turn>"), prompt.text.c_str());
        QVERIFY2(contains(prompt.notice, "System role not supported"), prompt.notice.c_str());
        // Without a system message nothing is adapted.
        QVERIFY(builder.build({{"user", "hi"}}).notice.empty());
        // A conversation the template refuses for another reason still fails, with its message.
        auto refused = catchError([&] { builder.build({{"user", "a"}, {"user", "b"}}); });
        QVERIFY(refused.thrown);
        QVERIFY2(contains(refused.message, "alternate"), refused.message.c_str());
    }

    // The chat API's tools, tool calls and enable_thinking reach the template (Qwen3's); a
    // template that never mentions tools refuses them rather than dropping them silently.
    void toolsAndThinkingReachTheTemplate()
    {
        std::ifstream in(std::string(AWQ_SOURCE_DIR) + "/tests/data/chat_templates/qwen3.jinja");
        std::ostringstream qwen3;
        qwen3 << in.rdbuf();
        const fs::path folder = demoCopy("qwen3-template", [&](nlohmann::json &c) { c["chat_template"] = qwen3.str(); });
        const std::unique_ptr<Tokenizer> tok = Tokenizer::load(folder);
        const PromptBuilder builder(*tok, folder);
        PromptOptions options;
        options.toolsJson = R"([{"type": "function", "function": {"name": "get_time", "parameters": {}}}])";
        options.enableThinking = false;
        ChatMessage call{"assistant", ""};
        call.contentIsNull = false;
        call.toolCalls = {{"call_1", "get_time", R"({"city": "Zürich"})"}};
        ChatMessage result{"tool", "14:05"};
        result.toolCallId = "call_1";
        const ChatPrompt prompt = builder.build({{"user", "Time?"}, call, result}, true, options);
        QVERIFY2(contains(prompt.text, "<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_time\", "
                                       "\"parameters\": {}}}\n</tools>"),
                 prompt.text.c_str());
        QVERIFY2(contains(prompt.text, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"city\": \"Zürich\"}}\n"
                                       "</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n14:05\n</tool_response>"),
                 prompt.text.c_str());
        QVERIFY2(prompt.text.size() > 20 && prompt.text.substr(prompt.text.size() - 19) == "<think>\n\n</think>\n\n",
                 prompt.text.c_str());

        auto refused = catchError([&] { m_model->promptBuilder().build({{"user", "Time?"}}, true, options); });
        QVERIFY(refused.thrown);
        QVERIFY2(contains(refused.message, "does not use tools"), refused.message.c_str());
        // Without tools the demo template renders as before; enable_thinking alone is harmless.
        options.toolsJson.clear();
        QCOMPARE(m_model->promptBuilder().build({{"user", "Time?"}}, true, options).text,
                 m_model->promptBuilder().build({{"user", "Time?"}}).text);
    }

    void replyStreamsTextAndStatistics()
    {
        ChatSettings settings;
        settings.temperature = 0; // greedy: the same reply every time
        settings.maxNewTokens = 24;
        std::string streamed;
        int pieces = 0;
        const std::vector<ChatMessage> messages = {{"user", "What did the jury say?"}};
        const Reply reply = m_model->reply(messages, settings, [&](const std::string &text, int32_t) {
            streamed += text;
            ++pieces;
            return true;
        });
        QVERIFY(!reply.text.empty());
        QCOMPARE(streamed, reply.text);
        QVERIFY(pieces >= 1);
        QVERIFY(reply.stats.generatedTokens >= 1 && reply.stats.generatedTokens <= 24);
        QCOMPARE(reply.stats.promptTokens, m_model->promptTokens(messages));
        QVERIFY(reply.stats.timeToFirstTokenSeconds > 0);
        QVERIFY(reply.stats.totalSeconds >= reply.stats.timeToFirstTokenSeconds);
        QVERIFY(!reply.stats.stopReason.empty());
        QCOMPARE(reply.droppedMessages, int64_t(0));
        qInfo("demo reply (%lld tokens, %s): %s", static_cast<long long>(reply.stats.generatedTokens),
              reply.stats.stopReason.c_str(), reply.text.c_str());
        // Greedy decoding is deterministic across calls (the cache is reset per reply).
        QCOMPARE(m_model->reply(messages, settings).text, reply.text);
    }

    // Issue 27 through the chat model (what the chat window and awq serve call): a generated
    // <0x00> byte reaches the reply and the stream with what follows it, in reply() and
    // complete() alike.
    void nulBytesReachTheReplyAndTheStream()
    {
        auto spm = Tokenizer::fromSentencePieceFile(awq::test::fixtureTokenizerModel());
        const int32_t nul = spm->pieceToId("<0x00>"), the = spm->pieceToId("\xE2\x96\x81the");
        QVERIFY(nul >= 0 && the >= 0);
        awq::test::FixtureSpec spec;
        spec.favouredTokens = {nul, the};
        const fs::path folder = awq::test::makeFixtureModel(m_tmp / "nul-model", spec);
        const std::unique_ptr<ChatModel> model = ChatModel::load(folder);
        ChatSettings settings;
        settings.temperature = 0;
        settings.repetitionPenalty = 1.5;
        settings.maxNewTokens = 4;
        std::string streamed;
        const TextSink sink = [&](const std::string &text, int32_t) {
            streamed += text;
            return true;
        };
        const Reply chat = model->reply({{"user", "The old sailor"}}, settings, sink);
        QVERIFY2(chat.text.find('\0') != std::string::npos && chat.text.find("the") != std::string::npos,
                 chat.text.c_str());
        QCOMPARE(streamed, chat.text);
        streamed.clear();
        const Reply completion = model->complete("The old sailor", settings, sink);
        QCOMPARE(completion.text, std::string("\0 the\0\0", 7));
        QCOMPARE(streamed, completion.text);
    }

    void cancelStopsWithinATokenAndKeepsTheText()
    {
        ChatSettings settings;
        settings.temperature = 0.8;
        settings.seed = 7;
        settings.maxNewTokens = 120;
        CancelToken cancel;
        int pieces = 0;
        const Reply reply = m_model->reply(
            {{"user", "Tell me about the city."}}, settings,
            [&](const std::string &, int32_t) {
                if (++pieces == 3)
                    cancel.cancel();
                return true;
            },
            cancel);
        if (reply.stats.stopReason == "end of sequence")
            QSKIP("the sampled reply ended before the third piece");
        QCOMPARE(reply.stats.stopReason, std::string("cancelled"));
        QVERIFY2(reply.stats.generatedTokens <= 4, std::to_string(reply.stats.generatedTokens).c_str());
        QVERIFY(!reply.text.empty());
    }

    void longConversationsDropTheOldestTurns()
    {
        // The demo model's context is 256 tokens: ten long exchanges do not fit.
        std::vector<ChatMessage> messages = {{"system", "Answer in one line."}};
        for (int i = 0; i < 10; ++i) {
            messages.push_back({"user", "Tell me again what the grand jury said about the election in the city, "
                                        "question number " + std::to_string(i) + "."});
            messages.push_back({"assistant", "It said the election was conducted well and without fraud."});
        }
        messages.push_back({"user", "And the last one?"});
        QVERIFY(m_model->promptTokens(messages) > m_model->info().contextLength);
        ChatSettings settings;
        settings.temperature = 0;
        settings.maxNewTokens = 16;
        const Reply reply = m_model->reply(messages, settings);
        QVERIFY(reply.droppedMessages >= 2);
        QCOMPARE(reply.droppedMessages % 2, int64_t(0)); // whole exchanges, so roles still alternate
        QVERIFY(contains(reply.promptText, "Answer in one line.")); // the system prompt stays
        QVERIFY(contains(reply.promptText, "And the last one?"));   // and the question
        QVERIFY(reply.stats.promptTokens + 16 <= m_model->info().contextLength);
    }

    // The chat window's context-length setting: the conversation is fitted to it (older
    // turns dropped), the reply stops at its end, and the decoder's KV cache never holds
    // more. Larger than the model's context or 0: the model's.
    void theContextLengthSettingBoundsPromptAndReply()
    {
        std::vector<ChatMessage> messages;
        for (int i = 0; i < 3; ++i) {
            messages.push_back({"user", "What did the jury say about the city, question " + std::to_string(i) + "?"});
            messages.push_back({"assistant", "It said the election was conducted well."});
        }
        messages.push_back({"user", "And then?"});
        const int64_t full = m_model->promptTokens(messages);
        QVERIFY(full < m_model->info().contextLength);
        ChatSettings settings;
        settings.temperature = 0;
        settings.maxNewTokens = 200;
        settings.contextLength = full; // room for no reply at all with every turn kept
        QCOMPARE(m_model->contextFor(settings), full);
        const Reply reply = m_model->reply(messages, settings);
        QVERIFY(reply.droppedMessages >= 2);
        QVERIFY(reply.stats.promptTokens + reply.stats.generatedTokens <= full);
        QVERIFY(reply.stats.generatedTokens > 0);

        settings.contextLength = 0;
        QCOMPARE(m_model->contextFor(settings), m_model->info().contextLength);
        settings.contextLength = m_model->info().contextLength * 4;
        QCOMPARE(m_model->contextFor(settings), m_model->info().contextLength);
        // 2 (keys, values) x layers x KV width x 4 bytes on the CPU.
        const ModelConfig config = ModelConfig::load(m_demo);
        QCOMPARE(m_model->info().kvCacheBytesPerToken, uint64_t(2 * config.numLayers * config.kvDim() * 4));

        // complete() too: a prompt longer than the chosen context is refused with its size.
        settings.contextLength = 4;
        const auto tooLong = catchError([&] { m_model->complete("the city council met and the jury said", settings); });
        QVERIFY(tooLong.thrown);
        QVERIFY2(contains(tooLong.message, "the context holds 4"), tooLong.message.c_str());
    }

    // On a machine whose LibTorch sees a GPU (the GPU sessions), the same reply runs there:
    // fp16, layer by layer. Skipped where there is none.
    void answersOnAGpuWhenThereIsOne()
    {
        const std::vector<ComputeDevice> devices = availableDevices();
        if (devices.size() < 2)
            QSKIP("no CUDA device visible to LibTorch");
        const std::unique_ptr<ChatModel> gpu = ChatModel::load(m_demo, {}, {}, devices[1].id);
        QCOMPARE(gpu->info().device, devices[1].id);
        ChatSettings settings;
        settings.temperature = 0;
        settings.maxNewTokens = 16;
        const Reply onGpu = gpu->reply({{"user", "What did the jury say?"}}, settings);
        QVERIFY(onGpu.stats.generatedTokens >= 1);
        qInfo("GPU reply: %s", onGpu.text.c_str());
    }

    void badRequestsAndFoldersGiveClearErrors()
    {
        auto empty = catchError([&] { m_model->reply({}, ChatSettings{}); });
        QVERIFY(empty.thrown);
        QCOMPARE(empty.code, ErrorCode::InvalidArgument);
        ChatSettings bad;
        bad.topP = 0;
        auto badSampling = catchError([&] { m_model->reply({{"user", "hi"}}, bad); });
        QVERIFY(badSampling.thrown);
        QVERIFY2(contains(badSampling.message, "top"), badSampling.message.c_str());

        auto missing = catchError([&] { ChatModel::load(m_tmp / "does-not-exist"); });
        QVERIFY(missing.thrown);
        QVERIFY2(contains(missing.message, "does-not-exist"), missing.message.c_str());

        // Devices: the CPU is always there; a device LibTorch does not have is refused by name.
        const std::vector<ComputeDevice> devices = availableDevices();
        QVERIFY(!devices.empty() && devices.front().id == "cpu");
        auto noGpu = catchError([&] { ChatModel::load(m_demo, {}, {}, "cuda:7"); });
        QVERIFY(noGpu.thrown);
        QCOMPARE(noGpu.code, ErrorCode::Device);
        QVERIFY2(contains(noGpu.message, "cuda:7"), noGpu.message.c_str());

        CancelToken cancel;
        cancel.cancel();
        auto cancelled = catchError([&] { ChatModel::load(m_demo, {}, cancel); });
        QVERIFY(cancelled.thrown);
        QCOMPARE(cancelled.code, ErrorCode::Cancelled);
    }
};

QTEST_APPLESS_MAIN(TestChatModel)
#include "tst_chat_model.moc"
