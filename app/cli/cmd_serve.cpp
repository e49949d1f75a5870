// awq serve MODEL: an OpenAI-compatible server on localhost for a model folder
// (server/include/awq/serve/openai_server.h). Ctrl+C drains: no new requests, the running
// ones finish (30 s at most), then the process exits; a second Ctrl+C kills at once.

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "awq/core/cancel.h"
#include "awq/runtime/threads.h"
#include "awq/serve/openai_server.h"
#include "cli_args.h"
#include "commands.h"

namespace awq::cli {

namespace {

bool isLoopback(const std::string &host)
{
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

} // namespace

int runServe(int argc, char **argv, int first)
{
    ArgParser args(
        "awq serve",
        "Serve a model folder with the OpenAI API on this machine: GET /v1/models, POST /v1/chat/completions "
        "(with \"stream\": true as server-sent events), POST /v1/completions, GET /health. Point any OpenAI "
        "client at http://HOST:PORT/v1. Requests are queued and answered one at a time per slot.\n\n"
        "Security: the server binds 127.0.0.1 (this machine only) unless --host says otherwise. An API key makes "
        "/v1/* answer 401 to requests without 'Authorization: Bearer KEY': it keeps other local users and "
        "programs (or the network, with --host 0.0.0.0) from using the model. It does NOT encrypt anything: "
        "this is plain HTTP, so on a network anyone who can watch the traffic sees the key, the prompts and the "
        "replies; /health answers without a key. A key given with --api-key is visible to other users in the "
        "process list; AWQ_API_KEY in the environment is not.");
    args.positional("MODEL", "a Hugging Face style model folder (full precision or AWQ)");
    args.option("host", "ADDR", "address to listen on; 0.0.0.0 listens on every network interface", "127.0.0.1");
    args.option("port", "N", "TCP port; 0 picks a free one (printed at start)", "8080");
    args.option("api-key", "KEY", "require 'Authorization: Bearer KEY' on /v1/* (default: $AWQ_API_KEY, else none)");
    args.option("context", "N", "context length in tokens (prompt + reply); 0 = the model's maximum", "0");
    args.option("threads", "N", "CPU threads; 0 = all cores", "0");
    args.option("parallel", "N", "model slots answering at the same time; each loads its own copy of the weights", "1");
    args.option("queue", "N", "requests that may wait for a slot; more are answered 429", "16");
    args.option("max-body", "BYTES", "largest request body accepted; larger ones are answered 413", "1048576");
    args.option("device", "ID", "cpu, or cuda:N", "cpu");
    addLmHeadOption(args);
    args.flag("quiet", "do not log each request to stderr");
    if (!args.parse(argc, argv, first)) {
        std::cout << args.help();
        return 0;
    }
    const std::string model = args.positionalValue("MODEL");
    serve::ServerOptions options;
    options.host = args.get("host");
    AWQ_CHECK(!options.host.empty(), InvalidArgument, "--host must not be empty");
    options.port = static_cast<int>(args.getInt("port", 0, 65535));
    options.apiKey = args.has("api-key") ? args.get("api-key") : std::string(std::getenv("AWQ_API_KEY") ? std::getenv("AWQ_API_KEY") : "");
    options.maxWaiting = static_cast<size_t>(args.getInt("queue", 0, 4096));
    options.maxBodyBytes = static_cast<size_t>(args.getInt("max-body", 1024, int64_t(1) << 30));
    const int64_t context = args.getInt("context", 0, int64_t(1) << 24);
    const size_t parallel = static_cast<size_t>(args.getInt("parallel", 1, 64));
    const int threads = configureThreads(static_cast<int>(args.getInt("threads", 0, 1024)));
    applyLmHeadOption(args);
    std::mutex logMutex;
    if (!args.has("quiet"))
        options.log = [&logMutex](const std::string &line) {
            std::lock_guard<std::mutex> lock(logMutex);
            std::cerr << "awq serve: " << line << "\n";
        };

    CancelToken interrupt;
    cancelOnInterrupt(interrupt);
    std::cerr << "awq serve: loading " << model << (parallel > 1 ? " (" + std::to_string(parallel) + " slots)" : "")
              << "\n";
    serve::ChatModelBackend backend(model, parallel, context, args.get("device"), {}, interrupt);
    const auto &info = backend.info();
    std::cerr << "awq serve: " << info.precision << ", " << threads << " threads, context " << backend.contextLength()
              << " tokens" << (info.hasTemplate ? "" : "; no chat template: chats go to the model as plain text")
              << "\n";
    if (!isLoopback(options.host))
        std::cerr << "awq serve: warning: listening on " << options.host
                  << ": other machines can reach this server" << (options.apiKey.empty() ? " and no API key is set" : "")
                  << "\n";

    serve::OpenAiServer server(backend, options);
    server.start();
    // The one stdout line: scripts read the URL from it (with --port 0 too).
    std::cout << "serving " << backend.modelId() << " at " << server.url() << "/v1 (Ctrl+C stops)" << std::endl;
    while (!interrupt.isCancelled() && server.running())
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.drain(std::chrono::seconds(30));
    const serve::ServerStats st = server.stats();
    std::cerr << "awq serve: stopped after " << st.requests << " requests (" << st.generations << " completions, "
              << st.rejected << " refused as busy, " << st.disconnects << " clients left mid-stream)\n";
    return 0;
}

} // namespace awq::cli
