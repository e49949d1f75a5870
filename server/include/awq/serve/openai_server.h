#pragma once
// OpenAiServer: an OpenAI-compatible HTTP server on one model (awq serve, and "Serve this
// model" in the app). cpp-httplib (Debian's libcpp-httplib-dev) does the HTTP; this class
// wires its routes to the request parsing (openai_requests.h), the response shaping
// (openai_responses.h) and the model slots (slot_runner.h).
//
//   GET  /health                 {"status": "ok", ...}; no API key needed
//   GET  /v1/models              the one model, as OpenAI lists models
//   POST /v1/chat/completions    chat, with the model's chat template; "stream": true as SSE
//   POST /v1/completions         plain-text continuation of a prompt
//
// Everything from the network is bounded: the body (413), the messages and stop strings
// (400), max_tokens against the context (400), the queue (429; 503 once draining), header
// lines (8 KiB, the library's limit), slow clients (read and write timeouts). A streaming
// client that goes away cancels its generation at the next token.
//
// The API key, when set, is required as "Authorization: Bearer KEY" on /v1/*. It keeps other
// programs and users who can reach the port from using the model; it does not encrypt
// anything (plain HTTP: anyone who can watch the traffic sees the key and the text).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "awq/serve/openai_requests.h"
#include "awq/serve/serve_backend.h"
#include "awq/serve/slot_runner.h"

namespace httplib {
class Server;
}

namespace awq::serve {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;               // 0: any free port (port() tells which)
    std::string apiKey;            // empty: no key needed
    size_t maxWaiting = 16;        // requests queued behind the running ones before 429
    size_t maxBodyBytes = 1 << 20; // 413 beyond
    RequestLimits limits;
    int readTimeoutSeconds = 10;   // a client that sends nothing for this long is dropped
    int writeTimeoutSeconds = 10;  // a client that reads nothing for this long is dropped (and its generation stops)
    size_t httpThreads = 0;        // connection threads; 0: slots + maxWaiting + 4 (at least 8)
    std::function<void(const std::string &line)> log; // one line per request, when set
};

struct ServerStats {
    uint64_t requests = 0;      // HTTP requests answered (any route, any status)
    uint64_t generations = 0;   // completions finished (streamed or not)
    uint64_t rejected = 0;      // 429 and 503
    uint64_t disconnects = 0;   // streams whose client went away mid-way
    uint64_t clientErrors = 0;  // other 4xx
    uint64_t serverErrors = 0;  // 5xx
    size_t running = 0, waiting = 0;
};

class OpenAiServer
{
public:
    // `backend` must outlive the server.
    OpenAiServer(ServeBackend &backend, ServerOptions options);
    ~OpenAiServer(); // stop()
    OpenAiServer(const OpenAiServer &) = delete;
    OpenAiServer &operator=(const OpenAiServer &) = delete;

    // Binds and starts serving on a thread of its own (once per object). Returns the port. Throws Error(Io)
    // naming the address when it cannot listen (port in use, no such address).
    int start();
    int port() const { return m_port; }
    std::string url() const; // "http://127.0.0.1:8080"
    bool running() const;

    // Ctrl+C: refuse new requests (503), let queued and running ones finish for up to
    // `grace`, cancel what is left, then stop.
    void drain(std::chrono::milliseconds grace);
    // Cancels everything now and stops; returns when the server's threads have ended.
    void stop();

    ServerStats stats() const;

private:
    void installRoutes();
    void log(const std::string &line) const;

    ServeBackend &m_backend;
    ServerOptions m_options;
    std::unique_ptr<SlotRunner> m_runner;
    std::unique_ptr<httplib::Server> m_http;
    std::thread m_thread;
    int m_port = 0;
    std::atomic<bool> m_stopped{false};
    const int64_t m_created;
    struct Counters {
        std::atomic<uint64_t> requests{0}, generations{0}, rejected{0}, disconnects{0}, clientErrors{0},
            serverErrors{0};
    };
    std::shared_ptr<Counters> m_counters;
    friend class ServerRoutes;
};

} // namespace awq::serve
