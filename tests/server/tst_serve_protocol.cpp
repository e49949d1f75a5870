// The server's parts without HTTP: OpenAI request parsing and validation (every bad field a
// 400 naming it), fitting max_tokens to the context, the response and chunk shapes, and the
// slot runner's bounded, ordered queue with drain and cancel.

#include <atomic>
#include <chrono>
#include <thread>

#include <QtTest>
#include <nlohmann/json.hpp>

#include "qtest_json.h"
#include "awq/serve/api_error.h"
#include "awq/serve/openai_requests.h"
#include "awq/serve/openai_responses.h"
#include "awq/serve/slot_runner.h"

using namespace awq;
using namespace awq::serve;
using nlohmann::json;

namespace {

// The ApiError a parse throws (status 0 when it did not throw).
template <typename F>
ApiError errorOf(F &&f)
{
    try {
        f();
    } catch (const ApiError &e) {
        return e;
    }
    return ApiError(0, "no error");
}

ApiError chatError(const json &body)
{
    return errorOf([&] { parseChatCompletionRequest(body.dump()); });
}

const json kMessages = json::array({{{"role", "user"}, {"content", "Hello"}}});

} // namespace

class TestServeProtocol : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void chatRequestMapsOpenAiFields()
    {
        const json body = {{"model", "demo"},
                           {"messages", json::array({{{"role", "developer"}, {"content", "Be brief."}},
                                                     {{"role", "user"},
                                                      {"content", json::array({{{"type", "text"}, {"text", "Hi "}},
                                                                               {{"type", "text"}, {"text", "there"}}})}}})},
                           {"temperature", 0.5},
                           {"top_p", 0.8},
                           {"top_k", 20},
                           {"min_p", 0.05},
                           {"presence_penalty", 0.5},
                           {"frequency_penalty", -0.5},
                           {"max_tokens", 12},
                           {"stop", "END"},
                           {"seed", 42},
                           {"stream", true},
                           {"stream_options", {{"include_usage", true}}},
                           {"user", "ignored"}};
        const ChatCompletionRequest r = parseChatCompletionRequest(body.dump());
        QCOMPARE(r.messages.size(), size_t(2));
        QCOMPARE(r.messages[0].role, std::string("system"));
        QCOMPARE(r.messages[1].content, std::string("Hi there"));
        QCOMPARE(r.options.model, std::string("demo"));
        const chat::ChatSettings &s = r.options.settings;
        QCOMPARE(s.temperature, 0.5);
        QCOMPARE(s.topP, 0.8);
        QCOMPARE(s.topK, int64_t(20));
        QCOMPARE(s.minP, 0.05);
        QCOMPARE(s.presencePenalty, 0.5);
        QCOMPARE(s.frequencyPenalty, -0.5);
        QCOMPARE(s.maxNewTokens, int64_t(12));
        QCOMPARE(s.stopStrings, std::vector<std::string>{"END"});
        QCOMPARE(s.seed, uint64_t(42));
        QVERIFY(!s.randomSeed);
        QVERIFY(r.options.stream);
        QVERIFY(r.options.includeUsage);
    }

    // Tools, tool calls, tool results and enable_thinking go to the chat template; the tools
    // keep the client's key order (the template shows them with tojson).
    void chatRequestCarriesToolsToTheTemplate()
    {
        using Ordered = nlohmann::ordered_json; // the client's key order, as a client sends it
        const Ordered toolCall = {{"id", "call_1"},
                              {"type", "function"},
                              {"function", {{"name", "get_time"}, {"arguments", "{\"city\": \"Zürich\"}"}}}};
        const Ordered messages = Ordered::array(
            {{{"role", "user"}, {"content", "Time in Zürich?"}},
             {{"role", "assistant"}, {"content", nullptr}, {"reasoning_content", "Use the tool."}, {"tool_calls", Ordered::array({toolCall})}},
             {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "14:05"}}});
        const Ordered tools = Ordered::array(
            {{{"type", "function"}, {"function", {{"name", "get_time"}, {"parameters", {{"type", "object"}}}}}}});
        const std::string body = Ordered{{"messages", messages},
                                         {"tools", tools},
                                         {"tool_choice", "auto"},
                                         {"chat_template_kwargs", {{"enable_thinking", false}}}}
                                     .dump();
        const ChatCompletionRequest r = parseChatCompletionRequest(body);
        QCOMPARE(r.templateOptions.toolsJson,
                 std::string(R"([{"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}}])"));
        QCOMPARE(r.templateOptions.enableThinking, std::optional<bool>(false));
        QCOMPARE(r.messages.size(), size_t(3));
        const chat::ChatMessage &call = r.messages[1];
        QVERIFY(call.contentIsNull);
        QCOMPARE(call.reasoningContent, std::optional<std::string>("Use the tool."));
        QCOMPARE(call.toolCalls.size(), size_t(1));
        QCOMPARE(call.toolCalls[0].id, std::string("call_1"));
        QCOMPARE(call.toolCalls[0].name, std::string("get_time"));
        QCOMPARE(call.toolCalls[0].arguments, std::string(R"({"city": "Zürich"})"));
        QCOMPARE(r.messages[2].role, std::string("tool"));
        QCOMPARE(r.messages[2].toolCallId, std::string("call_1"));
        QCOMPARE(r.messages[2].content, std::string("14:05"));

        // tool_choice "none": the tools stay out of the prompt.
        json doc = json::parse(body);
        doc["tool_choice"] = "none";
        QVERIFY(parseChatCompletionRequest(doc.dump()).templateOptions.toolsJson.empty());
        // Arguments given as an object are taken as their JSON text.
        doc["messages"][1]["tool_calls"][0]["function"]["arguments"] = {{"city", "Paris"}};
        QCOMPARE(parseChatCompletionRequest(doc.dump()).messages[1].toolCalls[0].arguments,
                 std::string(R"({"city":"Paris"})"));
    }

    void absentFieldsTakeOpenAiDefaults()
    {
        const ChatCompletionRequest r = parseChatCompletionRequest(json{{"messages", kMessages}}.dump());
        QCOMPARE(r.options.settings.temperature, 1.0);
        QCOMPARE(r.options.settings.topP, 1.0);
        QCOMPARE(r.options.settings.topK, int64_t(0));
        QCOMPARE(r.options.settings.repetitionPenalty, 1.0);
        QCOMPARE(r.options.settings.maxNewTokens, int64_t(0)); // decided against the context later
        QVERIFY(r.options.settings.randomSeed);
        QVERIFY(!r.options.stream);
    }

    void badChatRequestsAre400NamingTheField_data()
    {
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("param");
        auto row = [](const char *name, const json &body, const char *param) {
            QTest::newRow(name) << QString::fromStdString(body.dump()) << QString(param);
        };
        row("no messages", json{{"model", "x"}}, "messages");
        row("empty messages", json{{"messages", json::array()}}, "messages");
        row("messages not array", json{{"messages", "hi"}}, "messages");
        row("bad role", json{{"messages", json::array({{{"role", "robot"}, {"content", "x"}}})}}, "messages[0].role");
        row("no role", json{{"messages", json::array({{{"content", "x"}}})}}, "messages[0].role");
        row("image part", json{{"messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "image_url"}}})}}})}},
            "messages[0].content");
        row("ends with assistant", json{{"messages", json::array({{{"role", "assistant"}, {"content", "x"}}})}}, "messages");
        row("temperature high", json{{"messages", kMessages}, {"temperature", 3}}, "temperature");
        row("temperature string", json{{"messages", kMessages}, {"temperature", "hot"}}, "temperature");
        row("top_p zero", json{{"messages", kMessages}, {"top_p", 0}}, "top_p");
        row("max_tokens zero", json{{"messages", kMessages}, {"max_tokens", 0}}, "max_tokens");
        row("max_tokens float", json{{"messages", kMessages}, {"max_tokens", 1.5}}, "max_tokens");
        row("max_tokens huge", json{{"messages", kMessages}, {"max_tokens", 18446744073709551615ULL}}, "max_tokens");
        row("penalty", json{{"messages", kMessages}, {"presence_penalty", 2.5}}, "presence_penalty");
        row("n", json{{"messages", kMessages}, {"n", 2}}, "n");
        row("stop many", json{{"messages", kMessages}, {"stop", {"a", "b", "c", "d", "e"}}}, "stop");
        row("stop empty", json{{"messages", kMessages}, {"stop", ""}}, "stop");
        row("stop number", json{{"messages", kMessages}, {"stop", 5}}, "stop");
        row("stream string", json{{"messages", kMessages}, {"stream", "yes"}}, "stream");
        row("tool without function", json{{"messages", kMessages}, {"tools", json::array({{{"type", "function"}}})}},
            "tools[0]");
        const json tool = {{"type", "function"}, {"function", {{"name", "f"}}}};
        row("tools not array", json{{"messages", kMessages}, {"tools", tool}}, "tools");
        row("tool without name", json{{"messages", kMessages}, {"tools", json::array({{{"type", "function"}, {"function", json::object()}}})}},
            "tools[0].function.name");
        row("tool_choice required", json{{"messages", kMessages}, {"tools", json::array({tool})}, {"tool_choice", "required"}},
            "tool_choice");
        row("functions", json{{"messages", kMessages}, {"functions", json::array({{{"name", "f"}}})}}, "functions");
        const json callWithoutName = {{"role", "assistant"},
                                      {"tool_calls", json::array({{{"type", "function"}, {"function", {{"arguments", "{}"}}}}})}};
        row("tool call without name", json{{"messages", json::array({kMessages[0], callWithoutName, kMessages[0]})}},
            "messages[1].tool_calls[0].function.name");
        row("tool_calls on user", json{{"messages", json::array({{{"role", "user"}, {"content", "x"}, {"tool_calls", json::array()}}})}},
            "messages[0].tool_calls");
        row("template kwargs other", json{{"messages", kMessages}, {"chat_template_kwargs", {{"date_string", "x"}}}},
            "chat_template_kwargs");
        row("enable_thinking string", json{{"messages", kMessages}, {"chat_template_kwargs", {{"enable_thinking", "no"}}}},
            "chat_template_kwargs.enable_thinking");
        row("json mode", json{{"messages", kMessages}, {"response_format", {{"type", "json_object"}}}}, "response_format");
        row("logprobs", json{{"messages", kMessages}, {"logprobs", true}}, "logprobs");
        row("model number", json{{"messages", kMessages}, {"model", 3}}, "model");
    }
    void badChatRequestsAre400NamingTheField()
    {
        QFETCH(QString, body);
        QFETCH(QString, param);
        const ApiError e = chatError(json::parse(body.toStdString()));
        QCOMPARE(e.status(), 400);
        QCOMPARE(QString::fromStdString(e.param()), param);
        QVERIFY2(std::string(e.what()).find(param.toStdString()) != std::string::npos, e.what());
        QCOMPARE(e.toJson()["error"]["type"], json("invalid_request_error"));
    }

    void malformedJsonIs400()
    {
        for (const char *body : {"", "{", "[1,2]", "\"text\"", "{\"messages\": [}", "\xff\xfe"}) {
            const ApiError e = errorOf([&] { parseChatCompletionRequest(body); });
            QCOMPARE(e.status(), 400);
        }
    }

    void limitsAreEnforced()
    {
        RequestLimits limits;
        limits.maxMessages = 3;
        limits.maxPromptBytes = 10;
        json many = json::array();
        for (int i = 0; i < 4; ++i)
            many.push_back({{"role", "user"}, {"content", "x"}});
        QCOMPARE(errorOf([&] { parseChatCompletionRequest(json{{"messages", many}}.dump(), limits); }).status(), 400);
        const json big = json::array({{{"role", "user"}, {"content", std::string(11, 'x')}}});
        QCOMPARE(errorOf([&] { parseChatCompletionRequest(json{{"messages", big}}.dump(), limits); }).status(), 400);
        QCOMPARE(errorOf([&] { parseCompletionRequest(json{{"prompt", std::string(11, 'x')}}.dump(), limits); }).status(), 400);
    }

    void completionRequests()
    {
        const CompletionRequest r = parseCompletionRequest(json{{"prompt", {"Once upon"}}, {"max_tokens", 5}}.dump());
        QCOMPARE(r.prompt, std::string("Once upon"));
        QCOMPARE(r.options.settings.maxNewTokens, int64_t(5));
        for (const json &bad : {json{{"prompt", json::array({1, 2})}}, json{{"prompt", {"a", "b"}}}, json{{"prompt", ""}},
                                json::object(), json{{"prompt", "x"}, {"echo", true}}, json{{"prompt", "x"}, {"logprobs", 2}},
                                json{{"prompt", "x"}, {"best_of", 3}}, json{{"prompt", "x"}, {"suffix", "y"}}})
            QCOMPARE(errorOf([&] { parseCompletionRequest(bad.dump()); }).status(), 400);
    }

    void maxTokensIsFittedToTheContext()
    {
        GenerationOptions given;
        given.settings.maxNewTokens = 50;
        fitToContext(given, 100, 150);
        QCOMPARE(given.settings.maxNewTokens, int64_t(50));
        GenerationOptions tooMany;
        tooMany.settings.maxNewTokens = 51;
        const ApiError e = errorOf([&] { fitToContext(tooMany, 100, 150); });
        QCOMPARE(e.status(), 400);
        QCOMPARE(e.code(), std::string("context_length_exceeded"));
        QVERIFY(std::string(e.what()).find("maximum context length is 150") != std::string::npos);
        GenerationOptions absent;
        absent.settings.maxNewTokens = 0; // as parsed when max_tokens is not given
        fitToContext(absent, 100, 150);
        QCOMPARE(absent.settings.maxNewTokens, int64_t(50)); // all the room left
        GenerationOptions full;
        full.settings.maxNewTokens = 0;
        QCOMPARE(errorOf([&] { fitToContext(full, 150, 150); }).status(), 400);
    }

    void responseShapes()
    {
        const ResponseHead head{makeCompletionId("chatcmpl-"), "demo", 1700000000};
        QVERIFY(head.id.rfind("chatcmpl-", 0) == 0 && head.id.size() == 9 + 24);
        QVERIFY(head.id != makeCompletionId("chatcmpl-"));
        const json full = chatCompletion(head, "Hi!", "stop", {3, 2});
        QCOMPARE(full["object"], json("chat.completion"));
        QCOMPARE(full["choices"][0]["message"]["content"], json("Hi!"));
        QCOMPARE(full["choices"][0]["message"]["role"], json("assistant"));
        QCOMPARE(full["usage"]["total_tokens"], json(5));
        QCOMPARE(chatChunkRole(head)["choices"][0]["delta"]["role"], json("assistant"));
        QCOMPARE(chatChunkContent(head, "x")["object"], json("chat.completion.chunk"));
        QCOMPARE(chatChunkFinish(head, "length")["choices"][0]["finish_reason"], json("length"));
        QVERIFY(chatChunkContent(head, "x")["choices"][0]["finish_reason"].is_null());
        QCOMPARE(usageChunk(head, "chat.completion.chunk", {1, 1})["choices"].size(), size_t(0));
        QCOMPARE(textCompletion(head, "t", "stop", {1, 1})["choices"][0]["text"], json("t"));
        QCOMPARE(modelList("demo", 1, 256)["data"][0]["id"], json("demo"));
        QCOMPARE(finishReason("end of sequence"), std::string("stop"));
        QCOMPARE(finishReason("stop string"), std::string("stop"));
        QCOMPARE(finishReason("max new tokens"), std::string("length"));
        QCOMPARE(finishReason("context full"), std::string("length"));
        // Invalid UTF-8 is replaced, not thrown on; an event is one "data:" line and a blank line.
        const std::string event = sseEvent(chatChunkContent(head, "\xff"));
        QVERIFY(event.rfind("data: {", 0) == 0);
        QVERIFY(event.size() > 2 && event.substr(event.size() - 2) == "\n\n");
        QVERIFY(event.find('\n') == event.size() - 2);
        QVERIFY(json::parse(event.substr(6)).is_object());
        // A generated NUL byte (issue 27) travels as \u0000 and parses back with what follows.
        const std::string withNul("a\0b", 3);
        const std::string nulEvent = sseEvent(chatChunkContent(head, withNul));
        QVERIFY(nulEvent.find('\0') == std::string::npos && nulEvent.find("\\u0000") != std::string::npos);
        QCOMPARE(json::parse(nulEvent.substr(6))["choices"][0]["delta"]["content"].get<std::string>(), withNul);
        QCOMPARE(json::parse(chatCompletion(head, withNul, "stop", {1, 1}).dump())["choices"][0]["message"]["content"]
                     .get<std::string>(),
                 withNul);
        QCOMPARE(ApiError(401, "x").type(), std::string("authentication_error"));
        QCOMPARE(ApiError(429, "x").type(), std::string("rate_limit_error"));
        QCOMPARE(errorBodyForStatus(413)["error"]["code"], json("request_too_large"));
    }

    void slotRunnerBoundsTheQueueAndKeepsOrder()
    {
        SlotRunner runner(1, 2); // one running + two waiting
        std::atomic<bool> release{false};
        std::vector<int> order;
        std::mutex orderMutex;
        SlotRunner::Refusal why{};
        std::vector<std::future<void>> done;
        for (int i = 0; i < 3; ++i) {
            auto r = runner.reserve(&why);
            QVERIFY(r.has_value());
            done.push_back(r->run(
                [&, i](size_t slot) {
                    QCOMPARE(slot, size_t(0));
                    while (!release)
                        std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    std::lock_guard<std::mutex> lock(orderMutex);
                    order.push_back(i);
                },
                CancelToken{}));
        }
        QVERIFY(!runner.reserve(&why).has_value());
        QVERIFY(why == SlotRunner::Refusal::QueueFull);
        release = true;
        for (auto &f : done)
            f.get();
        QCOMPARE(order, (std::vector<int>{0, 1, 2}));
        QVERIFY(runner.waitIdle(std::chrono::seconds(5)));
        {
            // A reservation dropped unused gives its place back.
            auto unused = runner.reserve(&why);
            QVERIFY(unused.has_value());
            QCOMPARE(runner.waiting(), size_t(1));
        }
        QCOMPARE(runner.waiting(), size_t(0));
        runner.beginDrain();
        QVERIFY(!runner.reserve(&why).has_value());
        QVERIFY(why == SlotRunner::Refusal::Draining);
    }

    void slotRunnerCancelsAndPropagatesErrors()
    {
        SlotRunner runner(2, 0);
        SlotRunner::Refusal why{};
        CancelToken token;
        auto r = runner.reserve(&why);
        std::future<void> running = r->run(
            [&](size_t) {
                while (!token.isCancelled())
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
            },
            token);
        auto failing = runner.reserve(&why);
        std::future<void> thrown = failing->run([](size_t) { throw std::runtime_error("boom"); }, CancelToken{});
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, thrown.get());
        runner.cancelAll();
        QCOMPARE(running.wait_for(std::chrono::seconds(5)), std::future_status::ready);
        QVERIFY(runner.waitIdle(std::chrono::seconds(5)));
    }
};

QTEST_GUILESS_MAIN(TestServeProtocol)
#include "tst_serve_protocol.moc"
