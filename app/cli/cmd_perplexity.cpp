// awq perplexity MODEL --text FILE: AutoAWQ-style windowed perplexity.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "awq/core/cancel.h"
#include "awq/core/error.h"
#include "awq/eval/perplexity.h"
#include "awq/runtime/decoder_model.h"
#include "awq/runtime/devices.h"
#include "awq/runtime/loaded_model.h"
#include "awq/runtime/threads.h"
#include "awq/nn/quant_linear.h"
#include "cli_args.h"
#include "commands.h"

namespace awq::cli {

int runPerplexity(int argc, char **argv, int first)
{
    ArgParser args("awq perplexity", "Perplexity of a model over a UTF-8 text file: the text is tokenized once "
                                     "(with BOS when the model's tokenizer adds one, see --bos) and cut into non-overlapping windows, as "
                                     "AutoAWQ evaluates.");
    args.positional("MODEL", "a Hugging Face style model folder");
    args.option("text", "FILE", "the evaluation text (UTF-8)");
    args.option("seqlen", "N", "window length in tokens; 0 = min(2048, the model's maximum)", "0");
    args.option("threads", "N", "CPU threads; 0 = all cores", "0");
    args.option("device", "ID", "cpu, or cuda:N (the CUDA decoder, fp16)", "cpu");
    args.option("engine", "NAME",
                "on the CPU: reference (layer by layer, exact: float32 activations, as AutoAWQ measures) or fused (the decoder chat and "
                "generate run, with its --lm-head)",
                "reference");
    addLmHeadOption(args);
    args.option("unigram-baseline", "FILE", "also print the perplexity of a unigram model counted on FILE");
    addBosFlags(args);
    if (!args.parse(argc, argv, first)) {
        std::cout << args.help();
        return 0;
    }
    AWQ_CHECK(args.has("text"), InvalidArgument, "--text FILE is required (see --help)");
    const std::string path = args.get("text");
    std::ifstream in(path, std::ios::binary);
    AWQ_CHECK(in, NotFound, path, ": cannot be opened for reading");
    std::ostringstream text;
    text << in.rdbuf();
    AWQ_CHECK(!text.str().empty(), InvalidArgument, path, ": the file is empty");
    configureThreads(static_cast<int>(args.getInt("threads", 0, 1024)));
    applyLmHeadOption(args);
    const std::string engine = args.get("engine");
    AWQ_CHECK(engine == "fused" || engine == "reference", InvalidArgument, "--engine must be fused or reference, not '",
              engine, "'");
    const BosMode bos = bosMode(args);

    const std::string device = args.get("device");
    checkDevice(device);
    LoadedModel loaded = loadModel(args.positionalValue("MODEL"), loadTargetFor(device, DecoderKind::Fused));
    // The CPU: by default exact, the reference forward, as AutoAWQ measures. A GPU: the CUDA decoder.
    std::unique_ptr<DecoderModel> model;
    if (device == "cpu" && engine == "reference") {
        // Exact: the int4 linears dequantize for BLAS instead of rounding the activations to
        // int8 (the default prefill path on VNNI; --engine fused measures that one).
        QuantLinear::setInt8Prefill(false);
        model = std::make_unique<ReferenceDecoder>(std::move(loaded.model), 1, 1);
    }
    else
        model = makeDecoderOn(device, std::move(loaded.model), DecoderKind::Fused);
    DecoderModel &decoder = *model;
    CancelToken cancel;
    cancelOnInterrupt(cancel);
    const PerplexityResult r = evaluatePerplexity(
        decoder, encodeText(*loaded.tokenizer, text.str(), bos), args.getInt("seqlen", 0, 1 << 24),
        [](const Progress &p) { std::fprintf(stderr, "\r%s", p.note.c_str()); }, cancel);
    std::fprintf(stderr, "\n");
    std::printf("perplexity: %.4f (%lld windows of %lld tokens; %lld tokens in the text; %.1f s)\n", r.perplexity,
                static_cast<long long>(r.windows), static_cast<long long>(r.seqLen), static_cast<long long>(r.tokens),
                r.seconds);
    if (args.has("unigram-baseline")) {
        const std::string trainPath = args.get("unigram-baseline");
        std::ifstream trainIn(trainPath, std::ios::binary);
        AWQ_CHECK(trainIn, NotFound, trainPath, ": cannot be opened for reading");
        std::ostringstream trainText;
        trainText << trainIn.rdbuf();
        const double unigram = unigramPerplexity(encodeText(*loaded.tokenizer, trainText.str(), bos),
                                                 encodeText(*loaded.tokenizer, text.str(), bos), loaded.config.vocabSize,
                                                 r.seqLen);
        std::printf("unigram baseline perplexity: %.4f (token frequencies of %s, add-one smoothed)\n", unigram,
                    trainPath.c_str());
    }
    return 0;
}

} // namespace awq::cli
