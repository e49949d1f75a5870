// awq: the command-line face of the engine. Thin: parses the subcommand and
// hands over; every error becomes one line on stderr and a non-zero exit.

#include <csignal>
#include <cstring>
#include <iostream>

#include "awq/core/cancel.h"
#include "awq/core/error.h"
#include "awq/core/memory.h"
#include "awq/runtime/resources.h"
#include "commands.h"

namespace awq::cli {

namespace {
CancelToken *g_interruptToken = nullptr;

extern "C" void handleInterrupt(int)
{
    if (g_interruptToken && !g_interruptToken->isCancelled()) {
        g_interruptToken->cancel();
        return;
    }
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
}
} // namespace

void cancelOnInterrupt(const CancelToken &token)
{
    static CancelToken held;
    held = token;
    g_interruptToken = &held;
    std::signal(SIGINT, handleInterrupt);
}

} // namespace awq::cli

namespace {

const char *kUsage = R"(usage: awq <command> [arguments] [options]

AWQ Studio command-line tool: inspect, quantize, run and evaluate Hugging Face style LLM folders.

commands:
  info MODEL            validate a model folder and print its facts (headers only)
  generate MODEL        generate text from a prompt, streamed to stdout
  perplexity MODEL      perplexity over a text file (AutoAWQ's windowing)
  quantize MODEL        AWQ or RTN 4-bit quantization to an AutoAWQ-compatible checkpoint
  bench [MODEL]         prefill/decode tokens/s and memory of FP32, GEMM and GEMV builds
                        (a model folder or --synthetic NAME); --kernels, --bandwidth
  serve MODEL           an OpenAI-compatible API server on localhost (/v1/chat/completions, ...)
  train                 train a small Llama from scratch on CPU (makes the demo model)

Run 'awq <command> --help' for the options of a command.
options:
  --version             print the version and the bundled-data folder in use
  --help                show this help
)";

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        std::cout << kUsage;
        return argc < 2 ? 2 : 0;
    }
    awq::configureAllocator();
    const std::string command = argv[1];
    if (command == "--version") {
        // The data line tells which bundled-data folder (demo model, texts) this binary uses.
        const auto data = awq::dataDirectory();
        std::cout << "awq " << AWQ_VERSION << "\n"
                  << "data: " << (data.empty() ? std::string("(none found)") : data.string()) << "\n";
        return 0;
    }
    try {
        if (command == "info")
            return awq::cli::runInfo(argc, argv, 2);
        if (command == "generate")
            return awq::cli::runGenerate(argc, argv, 2);
        if (command == "perplexity")
            return awq::cli::runPerplexity(argc, argv, 2);
        if (command == "quantize")
            return awq::cli::runQuantize(argc, argv, 2);
        if (command == "bench")
            return awq::cli::runBench(argc, argv, 2);
        if (command == "serve")
            return awq::cli::runServe(argc, argv, 2);
        if (command == "train")
            return awq::cli::runTrain(argc, argv, 2);
        std::cerr << "awq: unknown command '" << command << "' (see awq --help)\n";
        return 2;
    } catch (const awq::Error &e) {
        if (e.code() == awq::ErrorCode::Cancelled) {
            std::cerr << "awq " << command << ": cancelled\n";
            return 130;
        }
        std::cerr << "awq " << command << ": error: " << e.what() << "\n";
        return e.code() == awq::ErrorCode::InvalidArgument ? 2 : 1;
    } catch (const std::bad_alloc &) {
        std::cerr << "awq " << command << ": error: out of memory\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "awq " << command << ": error: " << e.what() << "\n";
        return 1;
    }
}
