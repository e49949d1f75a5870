// The OpenAI-compatible server over real HTTP on a free loopback port: every route, every
// error status, streaming as OpenAI's SSE chunks, queueing (429), draining (503), a client
// that leaves mid-stream (its generation stops, the next request starts at once), and on
// the bundled demo model: the concatenated stream equals the non-streaming reply for a seed.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <QtTest>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "qtest_json.h"
#include "awq/serve/openai_server.h"
#include "scripted_backend.h"

using namespace awq;
using namespace awq::serve;
using awq::test::ScriptedBackend;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Reply {
    int status = 0;  // 0: no response (connection failed or closed)
    std::string body;
    json doc;        // the body parsed, when it is JSON
};

Reply toReply(const httplib::Result &result)
{
    Reply r;
    if (!result)
        return r;
    r.status = result->status;
    r.body = result->body;
    r.doc = json::parse(r.body, nullptr, false);
    return r;
}

httplib::Headers auth(const std::string &key)
{
    return key.empty() ? httplib::Headers{} : httplib::Headers{{"Authorization", "Bearer " + key}};
}

Reply post(int port, const std::string &path, const std::string &body, const std::string &key = {})
{
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(60, 0);
    return toReply(client.Post(path.c_str(), auth(key), body, "application/json"));
}

Reply post(int port, const std::string &path, const json &body, const std::string &key = {})
{
    return post(port, path, body.dump(), key);
}

Reply get(int port, const std::string &path, const std::string &key = {})
{
    httplib::Client client("127.0.0.1", port);
    return toReply(client.Get(path.c_str(), auth(key)));
}

// The data payloads of a server-sent event stream ("[DONE]" included), comments skipped.
std::vector<std::string> sseData(const std::string &stream)
{
    std::vector<std::string> data;
    size_t pos = 0;
    while (pos < stream.size()) {
        const size_t end = stream.find("\n\n", pos);
        const std::string event = stream.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        pos = end == std::string::npos ? stream.size() : end + 2;
        if (event.rfind("data: ", 0) == 0)
            data.push_back(event.substr(6));
        else if (!event.empty() && event[0] != ':')
            data.push_back("<not an SSE data line: " + event + ">");
    }
    return data;
}

struct Stream {
    int status = 0;
    std::vector<json> chunks; // every data payload before [DONE], parsed
    bool done = false;        // ended with [DONE]
    std::string text;         // the content deltas (chat) or texts (completions) joined
    json usage;
};

Stream streamRequest(int port, const std::string &path, const json &body)
{
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(60, 0);
    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.body = body.dump();
    req.set_header("Content-Type", "application/json");
    std::string received;
    req.content_receiver = [&](const char *data, size_t n, uint64_t, uint64_t) {
        received.append(data, n);
        return true;
    };
    const auto result = client.send(req);
    Stream s;
    if (!result)
        return s;
    s.status = result->status;
    for (const std::string &payload : sseData(received)) {
        if (payload == "[DONE]") {
            s.done = true;
            continue;
        }
        const json chunk = json::parse(payload, nullptr, false);
        if (chunk.is_discarded()) {
            qWarning("not JSON: %s", payload.c_str());
            return Stream{};
        }
        s.chunks.push_back(chunk);
        if (chunk.contains("usage") && !chunk["usage"].is_null())
            s.usage = chunk["usage"];
        for (const json &choice : chunk["choices"]) {
            if (choice.contains("delta") && choice["delta"].contains("content"))
                s.text += choice["delta"]["content"].get<std::string>();
            if (choice.contains("text"))
                s.text += choice["text"].get<std::string>();
        }
    }
    return s;
}

json chatBody(const std::string &content, int maxTokens, bool stream = false)
{
    return {{"model", "scripted"},
            {"messages", json::array({{{"role", "user"}, {"content", content}}})},
            {"max_tokens", maxTokens},
            {"stream", stream}};
}

template <typename Pred>
bool waitFor(Pred pred, std::chrono::milliseconds timeout = 5s)
{
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

// A scripted backend and a server on a free loopback port.
struct Harness {
    ScriptedBackend backend;
    OpenAiServer server;
    int port;
    explicit Harness(ServerOptions options = {}, size_t slots = 1)
        : backend(slots), server(backend, (options.port = 0, options)), port(server.start())
    {
    }
};

} // namespace

class TestServeHttp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void modelsAndHealth()
    {
        Harness h;
        QVERIFY(h.port > 0);
        QCOMPARE(h.server.url(), "http://127.0.0.1:" + std::to_string(h.port));
        const Reply models = get(h.port, "/v1/models");
        QCOMPARE(models.status, 200);
        QCOMPARE(models.doc["object"], json("list"));
        QCOMPARE(models.doc["data"][0]["id"], json("scripted"));
        const Reply one = get(h.port, "/v1/models/scripted");
        QCOMPARE(one.status, 200);
        QCOMPARE(one.doc["object"], json("model"));
        QCOMPARE(get(h.port, "/v1/models/other").status, 404);
        const Reply health = get(h.port, "/health");
        QCOMPARE(health.status, 200);
        QCOMPARE(health.doc["status"], json("ok"));
    }

    void chatCompletion()
    {
        Harness h;
        const Reply r = post(h.port, "/v1/chat/completions", chatBody("say three words", 3));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.doc["object"], json("chat.completion"));
        QVERIFY(r.doc["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
        QCOMPARE(r.doc["model"], json("scripted"));
        QCOMPARE(r.doc["choices"][0]["message"]["content"], json("w0 w1 w2 "));
        QCOMPARE(r.doc["choices"][0]["finish_reason"], json("length"));
        QCOMPARE(r.doc["usage"]["prompt_tokens"], json(5));
        QCOMPARE(r.doc["usage"]["completion_tokens"], json(3));
        QCOMPARE(r.doc["usage"]["total_tokens"], json(8));
    }

    void chatStreamIsOpenAiChunks()
    {
        Harness h;
        json body = chatBody("stream please", 4, true);
        body["stream_options"] = {{"include_usage", true}};
        const Stream s = streamRequest(h.port, "/v1/chat/completions", body);
        QCOMPARE(s.status, 200);
        QVERIFY(s.done);
        QVERIFY(s.chunks.size() >= 6); // role, 4 pieces, finish, usage
        QCOMPARE(s.chunks.front()["choices"][0]["delta"]["role"], json("assistant"));
        const std::string id = s.chunks.front()["id"];
        for (const json &chunk : s.chunks) {
            QCOMPARE(chunk["object"], json("chat.completion.chunk"));
            QCOMPARE(chunk["id"].get<std::string>(), id);
        }
        QCOMPARE(s.chunks[s.chunks.size() - 2]["choices"][0]["finish_reason"], json("length"));
        QCOMPARE(s.text, std::string("w0 w1 w2 w3 "));
        QCOMPARE(s.usage["completion_tokens"], json(4));
        // Without include_usage there is no usage chunk.
        QVERIFY(streamRequest(h.port, "/v1/chat/completions", chatBody("x", 2, true)).usage.is_null());
    }

    void completions()
    {
        Harness h;
        const Reply r = post(h.port, "/v1/completions", json{{"prompt", "Once upon a time"}, {"max_tokens", 2}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.doc["object"], json("text_completion"));
        QCOMPARE(r.doc["choices"][0]["text"], json("w0 w1 "));
        QCOMPARE(r.doc["usage"]["prompt_tokens"], json(5));
        const Stream s = streamRequest(h.port, "/v1/completions",
                                       json{{"prompt", "Once upon a time"}, {"max_tokens", 2}, {"stream", true}});
        QCOMPARE(s.status, 200);
        QVERIFY(s.done);
        QCOMPARE(s.text, std::string("w0 w1 "));
        QCOMPARE(s.chunks.back()["choices"][0]["finish_reason"], json("length"));
    }

    void errorStatuses()
    {
        ServerOptions options;
        options.maxBodyBytes = 4096;
        Harness h(options);
        auto expect = [](const Reply &r, int status, const char *type) {
            QCOMPARE(r.status, status);
            QVERIFY2(r.doc.is_object() && r.doc.contains("error"), r.body.c_str());
            QCOMPARE(r.doc["error"]["type"], json(type));
            QVERIFY(r.doc["error"]["message"].is_string() && !r.doc["error"]["message"].get<std::string>().empty());
        };
        expect(post(h.port, "/v1/chat/completions", std::string("{not json")), 400, "invalid_request_error");
        const Reply badField = post(h.port, "/v1/chat/completions", json{{"messages", "hi"}});
        expect(badField, 400, "invalid_request_error");
        QCOMPARE(badField.doc["error"]["param"], json("messages"));
        expect(post(h.port, "/v1/chat/completions", json{{"messages", chatBody("x", 1)["messages"]}, {"temperature", -1}}),
               400, "invalid_request_error");
        json unknown = chatBody("x", 1);
        unknown["model"] = "gpt-4";
        const Reply notFound = post(h.port, "/v1/chat/completions", unknown);
        expect(notFound, 404, "not_found_error");
        QCOMPARE(notFound.doc["error"]["code"], json("model_not_found"));
        expect(get(h.port, "/v1/nothing"), 404, "not_found_error");
        expect(post(h.port, "/v1/chat/completions", chatBody(std::string(8000, 'x'), 1)), 413, "invalid_request_error");
        // The template refusing a conversation is the request's fault; our own failure is a 500.
        expect(post(h.port, "/v1/chat/completions", chatBody("refuse", 1)), 400, "invalid_request_error");
        expect(post(h.port, "/v1/chat/completions", chatBody("explode", 1)), 500, "server_error");
        // Counted by the logger, which httplib runs after the response went out: wait for it.
        QTRY_COMPARE_WITH_TIMEOUT(h.server.stats().serverErrors, uint64_t(1), 5000);
        // After all that the server still answers.
        QCOMPARE(post(h.port, "/v1/chat/completions", chatBody("fine", 1)).status, 200);
    }

    void contextIsBounded()
    {
        Harness h;
        const Reply r = post(h.port, "/v1/chat/completions", chatBody("x", 100000));
        QCOMPARE(r.status, 400);
        QCOMPARE(r.doc["error"]["code"], json("context_length_exceeded"));
    }

    void apiKey()
    {
        ServerOptions options;
        options.apiKey = "s3cret";
        Harness h(options);
        const Reply missing = post(h.port, "/v1/chat/completions", chatBody("x", 1));
        QCOMPARE(missing.status, 401);
        QCOMPARE(missing.doc["error"]["code"], json("invalid_api_key"));
        QCOMPARE(post(h.port, "/v1/chat/completions", chatBody("x", 1), "wrong").status, 401);
        QCOMPARE(post(h.port, "/v1/chat/completions", chatBody("x", 1), "s3cret!").status, 401);
        QCOMPARE(get(h.port, "/v1/models", "wrong").status, 401);
        QCOMPARE(h.backend.started.load(), 0);
        QCOMPARE(post(h.port, "/v1/chat/completions", chatBody("x", 1), "s3cret").status, 200);
        QCOMPARE(get(h.port, "/v1/models", "s3cret").status, 200);
        QCOMPARE(get(h.port, "/health").status, 200); // no key needed
    }

    void fullQueueIs429()
    {
        ServerOptions options;
        options.maxWaiting = 1;
        Harness h(options);
        h.backend.setTokenDelay(20ms);
        // One running, one waiting: the third is refused at once.
        std::thread first([&] { post(h.port, "/v1/chat/completions", chatBody("a", 25)); });
        QVERIFY(waitFor([&] { return h.backend.active.load() == 1; }));
        std::thread second([&] { post(h.port, "/v1/chat/completions", chatBody("b", 1)); });
        QVERIFY(waitFor([&] { return h.server.stats().waiting == 1; }));
        const auto start = std::chrono::steady_clock::now();
        const Reply third = post(h.port, "/v1/chat/completions", chatBody("c", 1));
        QCOMPARE(third.status, 429);
        QCOMPARE(third.doc["error"]["type"], json("rate_limit_error"));
        QVERIFY(std::chrono::steady_clock::now() - start < 400ms); // not queued behind the others
        first.join();
        second.join();
        QCOMPARE(h.backend.finished.load(), 2);
        QTRY_COMPARE_WITH_TIMEOUT(h.server.stats().rejected, uint64_t(1), 5000); // counted after the reply went out
    }

    void disconnectMidStreamStopsTheGeneration()
    {
        ServerOptions options;
        options.maxWaiting = 0; // a generation still running would make the next request a 429
        Harness h(options);
        h.backend.setTokenDelay(10ms);
        {
            httplib::Client client("127.0.0.1", h.port);
            httplib::Request req;
            req.method = "POST";
            req.path = "/v1/chat/completions";
            req.body = chatBody("a long story", 5000, true).dump(); // 50 s if nothing stops it
            req.set_header("Content-Type", "application/json");
            int events = 0;
            req.content_receiver = [&](const char *data, size_t n, uint64_t, uint64_t) {
                events += static_cast<int>(std::count(data, data + n, '\n')) / 2;
                return events < 4; // then hang up
            };
            client.send(req);
            client.stop();
        }
        QVERIFY2(waitFor([&] { return h.backend.finished.load() == 1; }, 3s), "the generation did not stop");
        QVERIFY(h.backend.lastStoppedEarly.load());
        QVERIFY(h.backend.lastGenerated.load() < 100);
        const auto start = std::chrono::steady_clock::now();
        const Reply next = post(h.port, "/v1/chat/completions", chatBody("next", 2));
        QCOMPARE(next.status, 200);
        QVERIFY(std::chrono::steady_clock::now() - start < 2s);
        QVERIFY(waitFor([&] { return h.server.stats().disconnects == 1; }));
    }

    void drainFinishesRunningAndRefusesNew()
    {
        Harness h;
        h.backend.setTokenDelay(20ms);
        Reply inFlight;
        std::thread client([&] { inFlight = post(h.port, "/v1/chat/completions", chatBody("finish me", 20)); });
        QVERIFY(waitFor([&] { return h.backend.active.load() == 1; }));
        std::thread drainer([&] { h.server.drain(10s); });
        QVERIFY(waitFor([&] { return get(h.port, "/health").doc.value("status", "") == "draining"; }));
        const Reply refused = post(h.port, "/v1/chat/completions", chatBody("too late", 1));
        QCOMPARE(refused.status, 503);
        client.join();
        drainer.join();
        QCOMPARE(inFlight.status, 200);
        QCOMPARE(inFlight.doc["usage"]["completion_tokens"], json(20));
        QVERIFY(!h.server.running());
        QCOMPARE(get(h.port, "/health").status, 0); // no longer listening
    }

    void oversizedHeaderIsRefused()
    {
        Harness h;
        httplib::Client client("127.0.0.1", h.port);
        const auto r = client.Get("/health", httplib::Headers{{"X-Big", std::string(20000, 'a')}});
        QVERIFY(!r || r->status >= 400);
        QCOMPARE(get(h.port, "/health").status, 200);
    }

    void streamEqualsNonStreamingOnTheDemoModel()
    {
        const std::filesystem::path demo = std::filesystem::path(AWQ_SOURCE_DIR) / "resources/models/demo-llama";
        if (!std::filesystem::exists(demo / "model.safetensors"))
            QSKIP("the demo model is not in this checkout");
        ChatModelBackend backend(demo);
        ServerOptions options;
        options.port = 0;
        OpenAiServer server(backend, options);
        const int port = server.start();
        for (const double temperature : {0.0, 0.9}) {
            json chat = {{"model", "demo-llama"},
                         {"messages", json::array({{{"role", "system"}, {"content", "You tell short stories."}},
                                                   {{"role", "user"}, {"content", "Tell me about a cat."}}})},
                         {"max_tokens", 40},
                         {"temperature", temperature},
                         {"top_p", 0.95},
                         {"seed", 7},
                         {"stream_options", {{"include_usage", true}}}};
            const Reply whole = post(port, "/v1/chat/completions", chat);
            QCOMPARE(whole.status, 200);
            chat["stream"] = true;
            const Stream streamed = streamRequest(port, "/v1/chat/completions", chat);
            QCOMPARE(streamed.status, 200);
            QVERIFY(streamed.done);
            const std::string text = whole.doc["choices"][0]["message"]["content"];
            QVERIFY(!text.empty());
            QCOMPARE(streamed.text, text);
            QCOMPARE(streamed.usage, whole.doc["usage"]);
            QCOMPARE(whole.doc["usage"]["prompt_tokens"].get<int64_t>(),
                     backend.chatPromptTokens({{"system", "You tell short stories."}, {"user", "Tell me about a cat."}}, {}));

            json plain = {{"prompt", "Once upon a time"}, {"max_tokens", 30}, {"temperature", temperature}, {"seed", 11}};
            const Reply wholeText = post(port, "/v1/completions", plain);
            QCOMPARE(wholeText.status, 200);
            plain["stream"] = true;
            const Stream streamedText = streamRequest(port, "/v1/completions", plain);
            QVERIFY(streamedText.done);
            QCOMPARE(streamedText.text, wholeText.doc["choices"][0]["text"].get<std::string>());
        }
        // The model's context (256 tokens) bounds max_tokens.
        QCOMPARE(post(port, "/v1/completions", json{{"prompt", "x"}, {"max_tokens", 300}}).status, 400);
    }
};

QTEST_GUILESS_MAIN(TestServeHttp)
#include "tst_serve_http.moc"
