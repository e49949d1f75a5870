// awq generate MODEL --prompt TEXT: streams generated text to stdout, statistics to stderr.

#include <cstdio>
#include <iostream>

#include "awq/core/cancel.h"
#include "awq/runtime/generator.h"
#include "awq/runtime/decoder_model.h"
#include "awq/runtime/devices.h"
#include "awq/runtime/loaded_model.h"
#include "awq/runtime/threads.h"
#include "cli_args.h"
#include "commands.h"

namespace awq::cli {

int runGenerate(int argc, char **argv, int first)
{
    ArgParser args("awq generate", "Generate text from a prompt with a model folder (full precision or AWQ), "
                                   "streaming it to stdout. Statistics go to stderr.");
    args.positional("MODEL", "a Hugging Face style model folder");
    args.option("prompt", "TEXT", "the prompt (plain completion, no chat template)");
    args.option("max-new-tokens", "N", "tokens to generate at most", "128");
    args.option("temperature", "T", "sampling temperature; 0 = greedy", "0");
    args.option("top-k", "K", "keep the K most likely tokens; 0 = off", "0");
    args.option("top-p", "P", "nucleus sampling threshold; 1 = off", "1");
    args.option("repetition-penalty", "R", "penalty for tokens already in the context; 1 = off", "1");
    args.option("seed", "N", "random seed for sampling", "0");
    args.option("stop", "TEXT", "stop when TEXT appears (repeatable)", "", true);
    args.option("max-context", "N", "KV cache size in tokens; 0 = the model's maximum", "0");
    args.option("threads", "N", "CPU threads; 0 = all cores", "0");
    args.option("engine", "NAME", "fused (the fused CPU decoder, or the CUDA decoder on a GPU) or reference (layer by layer, the oracle)", "fused");
    args.option("device", "ID", "cpu, or cuda:N (the CUDA decoder: fp16, int4 kernels)", "cpu");
    addLmHeadOption(args);
    addBosFlags(args);
    args.flag("ignore-eos", "keep generating after the end-of-sequence token");
    if (!args.parse(argc, argv, first)) {
        std::cout << args.help();
        return 0;
    }
    AWQ_CHECK(args.has("prompt"), InvalidArgument, "--prompt is required (see --help)");
    SamplingParams sampling;
    sampling.maxNewTokens = args.getInt("max-new-tokens", 1, 1 << 20);
    sampling.temperature = args.getDouble("temperature", 0, 100);
    sampling.topK = args.getInt("top-k", 0, 1 << 24);
    sampling.topP = args.getDouble("top-p", 1e-6, 1);
    sampling.repetitionPenalty = args.getDouble("repetition-penalty", 1e-3, 100);
    sampling.seed = static_cast<uint64_t>(args.getInt("seed", 0, INT64_MAX));
    sampling.stopStrings = args.getAll("stop");
    sampling.validate();
    const int threads = configureThreads(static_cast<int>(args.getInt("threads", 0, 1024)));
    applyLmHeadOption(args);

    const std::string engine = args.get("engine");
    AWQ_CHECK(engine == "fused" || engine == "reference", InvalidArgument, "--engine must be fused or reference, not '",
              engine, "'");
    const DecoderKind kind = engine == "fused" ? DecoderKind::Fused : DecoderKind::Reference;
    const std::string device = args.get("device");
    checkDevice(device);
    LoadedModel loaded = loadModel(args.positionalValue("MODEL"), loadTargetFor(device, kind));
    GenerationRequest request;
    request.promptIds = encodeText(*loaded.tokenizer, args.get("prompt"), bosMode(args));
    request.sampling = sampling;
    request.stopAtEos = !args.has("ignore-eos");

    CancelToken cancel;
    cancelOnInterrupt(cancel);
    const int64_t maxContext = args.getInt("max-context", 0, 1 << 24);
    const std::unique_ptr<DecoderModel> decoder = makeDecoderOn(device, std::move(loaded.model), kind);
    Generator generator(*decoder, *loaded.tokenizer, maxContext);
    std::cout << args.get("prompt") << std::flush;
    const GenerationResult result = generator.generate(
        request,
        [](const std::string &text, int32_t) {
            std::cout << text << std::flush;
            return true;
        },
        cancel);
    std::cout << std::endl;
    std::fprintf(stderr,
                 "[%s, %d threads] loaded in %.2f s; prompt %lld tokens at %.1f tok/s; generated %zu tokens at %.1f "
                 "tok/s; stop: %s\n",
                 decoder->describe().c_str(), threads, loaded.loadSeconds,
                 static_cast<long long>(result.promptTokens), result.promptTokensPerSecond(), result.tokens.size(),
                 result.decodeTokensPerSecond(), stopReasonName(result.stopReason));
    return result.stopReason == StopReason::Cancelled ? 130 : 0;
}

} // namespace awq::cli
