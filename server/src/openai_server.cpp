// The HTTP wiring of OpenAiServer: cpp-httplib routes -> parse/validate -> a queued job on a
// model slot -> OpenAI-shaped JSON or server-sent events.
//
// Why cpp-httplib (libcpp-httplib-dev 0.11) rather than Qt HttpServer: the server lives
// beside the Qt-free engine and serves the CLI too; httplib's chunked content provider
// streams SSE from the handler's own thread and reports a failed write (a client that left),
// and it has the limits a local server needs (payload size, read/write/keep-alive timeouts,
// header line length). Qt HttpServer 6.4 has no streaming responses (QHttpServerResponder
// writes whole bodies), no body size limit and would put Qt into the CLI.

#include "awq/serve/openai_server.h"

#include <csignal>

#include <httplib.h>

#include "awq/core/error.h"
#include "awq/serve/api_error.h"
#include "awq/serve/openai_responses.h"

namespace awq::serve {

using nlohmann::json;

namespace {

void sendJson(httplib::Response &res, int status, const json &body)
{
    res.status = status;
    res.set_content(dumpJson(body), "application/json");
}

void sendError(httplib::Response &res, const ApiError &error)
{
    sendJson(res, error.status(), error.toJson());
}

// Compares without an early exit, so that the time taken does not tell how much of a guessed
// key was right.
bool sameKey(const std::string &a, const std::string &b)
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
    return diff == 0 && !b.empty();
}

// An engine error met while generating: the request's fault (the template refused the
// conversation, a setting out of range) or ours.
ApiError toApiError(const std::exception &e)
{
    if (const auto *api = dynamic_cast<const ApiError *>(&e))
        return *api;
    if (const auto *engine = dynamic_cast<const awq::Error *>(&e)) {
        if (engine->code() == ErrorCode::InvalidArgument || engine->code() == ErrorCode::Format)
            return ApiError(400, engine->what());
        if (engine->code() == ErrorCode::Cancelled)
            return ApiError(503, "the server is shutting down; the request was cancelled", {}, "server_shutting_down");
    }
    return ApiError(500, std::string("internal error: ") + e.what());
}

// One generation request once parsed and admitted.
struct Job {
    bool chat = true;
    std::vector<chat::ChatMessage> messages;
    chat::PromptOptions templateOptions; // tools, enable_thinking
    std::string prompt;
    GenerationOptions options;
    int64_t promptTokens = 0;
    ResponseHead head;
    std::optional<SlotRunner::Reservation> reservation;
};

} // namespace

// The route handlers, with access to the server's parts.
class ServerRoutes
{
public:
    explicit ServerRoutes(OpenAiServer &server) : s(server) {}

    void models(const httplib::Request &, httplib::Response &res)
    {
        sendJson(res, 200, modelList(s.m_backend.modelId(), s.m_created, s.m_backend.contextLength()));
    }

    void model(const httplib::Request &req, httplib::Response &res)
    {
        const std::string id = req.matches[1];
        checkModel(id);
        sendJson(res, 200, modelList(id, s.m_created, s.m_backend.contextLength())["data"][0]);
    }

    void health(const httplib::Request &, httplib::Response &res)
    {
        const ServerStats st = s.stats();
        sendJson(res, 200,
                 {{"status", s.m_runner->draining() ? "draining" : "ok"},
                  {"model", s.m_backend.modelId()},
                  {"slots", s.m_backend.slots()},
                  {"running", st.running},
                  {"waiting", st.waiting}});
    }

    void chatCompletions(const httplib::Request &req, httplib::Response &res)
    {
        auto job = std::make_shared<Job>();
        ChatCompletionRequest request = parseChatCompletionRequest(req.body, s.m_options.limits);
        job->chat = true;
        job->messages = std::move(request.messages);
        job->templateOptions = std::move(request.templateOptions);
        job->options = std::move(request.options);
        checkModel(job->options.model);
        job->promptTokens = s.m_backend.chatPromptTokens(job->messages, job->templateOptions);
        admitAndRun(job, "chatcmpl-", res);
    }

    void completions(const httplib::Request &req, httplib::Response &res)
    {
        auto job = std::make_shared<Job>();
        CompletionRequest request = parseCompletionRequest(req.body, s.m_options.limits);
        job->chat = false;
        job->prompt = std::move(request.prompt);
        job->options = std::move(request.options);
        checkModel(job->options.model);
        job->promptTokens = s.m_backend.completionPromptTokens(job->prompt);
        admitAndRun(job, "cmpl-", res);
    }

private:
    void checkModel(const std::string &requested) const
    {
        if (!requested.empty() && requested != s.m_backend.modelId())
            throw ApiError(404, "The model '" + requested + "' does not exist; this server serves '"
                                    + s.m_backend.modelId() + "'", "model", "model_not_found");
    }

    void admitAndRun(const std::shared_ptr<Job> &job, const char *idPrefix, httplib::Response &res)
    {
        fitToContext(job->options, job->promptTokens, s.m_backend.contextLength());
        SlotRunner::Refusal why{};
        job->reservation = s.m_runner->reserve(&why);
        if (!job->reservation) {
            if (why == SlotRunner::Refusal::Draining)
                throw ApiError(503, "the server is shutting down", {}, "server_shutting_down");
            throw ApiError(429, "the server is busy: " + std::to_string(s.m_options.maxWaiting)
                                    + " requests are already waiting; retry later", {}, "queue_full");
        }
        job->head = ResponseHead{makeCompletionId(idPrefix), s.m_backend.modelId(), unixTime()};
        if (!job->options.stream) {
            runBlocking(*job, res);
            return;
        }
        res.set_header("Cache-Control", "no-cache");
        res.set_header("X-Accel-Buffering", "no");
        res.set_chunked_content_provider("text/event-stream", [this, job](size_t, httplib::DataSink &sink) {
            return stream(*job, sink);
        });
    }

    // Runs the job on a slot; `sink` gets the pieces (on the slot's thread).
    chat::Reply generate(Job &job, const TextSink &sink, const CancelToken &cancel)
    {
        chat::Reply reply;
        SlotRunner::Reservation reservation = std::move(*job.reservation);
        job.reservation.reset();
        std::future<void> done = reservation.run(
            [&](size_t slot) {
                cancel.throwIfCancelled(); // cancelled while waiting: no prefill
                reply = job.chat ? s.m_backend.chat(slot, job.messages, job.templateOptions, job.options.settings, sink, cancel)
                                 : s.m_backend.complete(slot, job.prompt, job.options.settings, sink, cancel);
            },
            cancel);
        done.get(); // rethrows what the job threw
        return reply;
    }

    void runBlocking(Job &job, httplib::Response &res)
    {
        const chat::Reply reply = generate(job, {}, CancelToken{});
        if (reply.stats.stopReason == "cancelled")
            throw ApiError(503, "the server is shutting down; the request was cancelled", {}, "server_shutting_down");
        const Usage usage{reply.stats.promptTokens, reply.stats.generatedTokens};
        const std::string finish = finishReason(reply.stats.stopReason);
        sendJson(res, 200, job.chat ? chatCompletion(job.head, reply.text, finish, usage)
                                    : textCompletion(job.head, reply.text, finish, usage));
        ++s.m_counters->generations;
    }

    bool stream(Job &job, httplib::DataSink &sink)
    {
        bool open = true;
        auto send = [&](const std::string &event) {
            if (open)
                open = sink.write(event.data(), event.size());
            return open;
        };
        if (job.chat && !send(sseEvent(chatChunkRole(job.head)))) {
            ++s.m_counters->disconnects;
            return false;
        }
        const CancelToken cancel;
        chat::Reply reply;
        try {
            reply = generate(job,
                             [&](const std::string &piece, int32_t) {
                                 return send(sseEvent(job.chat ? chatChunkContent(job.head, piece)
                                                               : textChunk(job.head, piece, nullptr)));
                             },
                             cancel);
        } catch (const std::exception &e) {
            // The status line went out with the first chunk: the error goes as an event.
            const ApiError error = toApiError(e);
            (error.status() >= 500 ? s.m_counters->serverErrors : s.m_counters->clientErrors)++;
            send(sseEvent(error.toJson()));
            send(kSseDone);
            if (open)
                sink.done();
            return open;
        }
        if (!open) {
            ++s.m_counters->disconnects; // the client left: the generation stopped at its next token
            return false;
        }
        const std::string finish = reply.stats.stopReason == "cancelled" ? "stop" : finishReason(reply.stats.stopReason);
        const Usage usage{reply.stats.promptTokens, reply.stats.generatedTokens};
        send(sseEvent(job.chat ? chatChunkFinish(job.head, finish) : textChunk(job.head, "", &finish)));
        if (job.options.includeUsage)
            send(sseEvent(usageChunk(job.head, job.chat ? "chat.completion.chunk" : "text_completion", usage)));
        send(kSseDone);
        if (!open) {
            ++s.m_counters->disconnects;
            return false;
        }
        ++s.m_counters->generations;
        sink.done();
        return true;
    }

    OpenAiServer &s;
};

OpenAiServer::OpenAiServer(ServeBackend &backend, ServerOptions options)
    : m_backend(backend), m_options(std::move(options)), m_created(unixTime()),
      m_counters(std::make_shared<Counters>())
{
}

OpenAiServer::~OpenAiServer()
{
    stop();
}

void OpenAiServer::log(const std::string &line) const
{
    if (m_options.log)
        m_options.log(line);
}

int OpenAiServer::start()
{
    AWQ_CHECK(!m_http, InvalidArgument, "the server was started before (start a new OpenAiServer)");
    // A client that closes its socket must not kill the process with SIGPIPE: the failed
    // write is how a disconnect is noticed.
    std::signal(SIGPIPE, SIG_IGN);
    m_runner = std::make_unique<SlotRunner>(m_backend.slots(), m_options.maxWaiting);
    m_http = std::make_unique<httplib::Server>();
    const size_t threads = m_options.httpThreads > 0
                               ? m_options.httpThreads
                               : std::max<size_t>(8, m_backend.slots() + m_options.maxWaiting + 4);
    m_http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    m_http->set_payload_max_length(m_options.maxBodyBytes);
    m_http->set_read_timeout(m_options.readTimeoutSeconds, 0);
    m_http->set_write_timeout(m_options.writeTimeoutSeconds, 0);
    m_http->set_keep_alive_timeout(5);
    m_http->set_keep_alive_max_count(100);
    installRoutes();

    const int bound = m_options.port == 0 ? m_http->bind_to_any_port(m_options.host)
                                          : (m_http->bind_to_port(m_options.host, m_options.port) ? m_options.port : -1);
    if (bound < 0) {
        m_http.reset();
        m_runner.reset();
        fail(ErrorCode::Io, "cannot listen on ", m_options.host, ":", m_options.port,
             " (the port is in use, or the address is not one of this machine's)");
    }
    m_port = bound;
    m_thread = std::thread([this] { m_http->listen_after_bind(); });
    // listen_after_bind() marks the server running from its own thread: wait for that, so
    // that running() is true once start() returned.
    for (int i = 0; i < 5000 && !m_http->is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    log("serving " + m_backend.modelId() + " at " + url());
    return m_port;
}

std::string OpenAiServer::url() const
{
    const bool v6 = m_options.host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + m_options.host + "]" : m_options.host) + ":" + std::to_string(m_port);
}

bool OpenAiServer::running() const
{
    return m_http && !m_stopped && m_http->is_running();
}

void OpenAiServer::installRoutes()
{
    auto routes = std::make_shared<ServerRoutes>(*this);
    // Every handler's errors become OpenAI error JSON; bad input is never a 500.
    auto guarded = [routes](void (ServerRoutes::*handler)(const httplib::Request &, httplib::Response &)) {
        return [routes, handler](const httplib::Request &req, httplib::Response &res) {
            try {
                ((*routes).*handler)(req, res);
            } catch (const std::exception &e) {
                sendError(res, toApiError(e));
            }
        };
    };
    m_http->Get("/health", guarded(&ServerRoutes::health));
    m_http->Get("/v1/models", guarded(&ServerRoutes::models));
    m_http->Get("/v1/models/(.+)", guarded(&ServerRoutes::model));
    m_http->Post("/v1/chat/completions", guarded(&ServerRoutes::chatCompletions));
    m_http->Post("/v1/completions", guarded(&ServerRoutes::completions));

    m_http->set_pre_routing_handler([this](const httplib::Request &req, httplib::Response &res) {
        if (m_options.apiKey.empty() || req.path.rfind("/v1/", 0) != 0)
            return httplib::Server::HandlerResponse::Unhandled;
        const std::string header = req.get_header_value("Authorization");
        const std::string bearer = "Bearer ";
        if (header.rfind(bearer, 0) == 0 && sameKey(header.substr(bearer.size()), m_options.apiKey))
            return httplib::Server::HandlerResponse::Unhandled;
        sendError(res, ApiError(401,
                                header.empty() ? "no API key: send 'Authorization: Bearer KEY'"
                                               : "incorrect API key provided",
                                {}, "invalid_api_key"));
        return httplib::Server::HandlerResponse::Handled;
    });
    // Statuses the library sets itself (404 no route, 413 body too large, 400 bad HTTP) get
    // an OpenAI error body; ours already have one.
    // (Named as HandlerWithResponse: 0.11 also takes a plain Handler, and a lambda fits both.)
    m_http->set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request &, httplib::Response &res) {
            if (!res.body.empty())
                return httplib::Server::HandlerResponse::Unhandled;
            res.set_content(dumpJson(errorBodyForStatus(res.status)), "application/json");
            return httplib::Server::HandlerResponse::Handled;
        }));
    m_http->set_exception_handler([](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception &e) {
            sendError(res, toApiError(e));
        } catch (...) {
            sendError(res, ApiError(500, "internal error"));
        }
    });
    auto counters = m_counters;
    m_http->set_logger([this, counters](const httplib::Request &req, const httplib::Response &res) {
        ++counters->requests;
        if (res.status == 429 || res.status == 503)
            ++counters->rejected;
        else if (res.status >= 500)
            ++counters->serverErrors;
        else if (res.status >= 400)
            ++counters->clientErrors;
        log(req.method + " " + req.path + " " + std::to_string(res.status));
    });
}

void OpenAiServer::drain(std::chrono::milliseconds grace)
{
    if (!m_runner || m_stopped)
        return;
    m_runner->beginDrain();
    log("draining: waiting up to " + std::to_string(grace.count() / 1000) + " s for " +
        std::to_string(m_runner->running() + m_runner->waiting()) + " requests");
    if (!m_runner->waitIdle(grace))
        log("drain: time is up, cancelling what is left");
    stop();
}

void OpenAiServer::stop()
{
    if (!m_http || m_stopped)
        return;
    m_runner->beginDrain();
    m_runner->cancelAll();
    m_runner->waitIdle(std::chrono::seconds(30)); // cancelled jobs end at their next token
    m_http->stop();
    if (m_thread.joinable())
        m_thread.join();
    m_stopped = true;
    log("stopped");
}

ServerStats OpenAiServer::stats() const
{
    ServerStats st;
    st.requests = m_counters->requests;
    st.generations = m_counters->generations;
    st.rejected = m_counters->rejected;
    st.disconnects = m_counters->disconnects;
    st.clientErrors = m_counters->clientErrors;
    st.serverErrors = m_counters->serverErrors;
    if (m_runner) {
        st.running = m_runner->running();
        st.waiting = m_runner->waiting();
    }
    return st;
}

} // namespace awq::serve
