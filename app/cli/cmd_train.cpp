// awq train: trains a small Llama from scratch on CPU (how the bundled demo model is made).

#include <cstdio>
#include <iostream>

#include "awq/core/cancel.h"
#include "awq/core/error.h"
#include "awq/runtime/threads.h"
#include "awq/train/trainer.h"
#include "cli_args.h"
#include "commands.h"

namespace awq::cli {

int runTrain(int argc, char **argv, int first)
{
    ArgParser args("awq train", "Train a small Llama-architecture model from scratch on CPU and write it as a "
                                "Hugging Face folder (fp16 safetensors, config, tokenizer files).");
    args.option("train", "FILE", "training text (UTF-8, one paragraph per line)");
    args.option("eval", "FILE", "held-out text for evaluation (never trained on)");
    args.option("tokenizer", "FILE", "sentencepiece tokenizer.model (train it with spm_train)");
    args.option("out", "DIR", "output model folder");
    args.option("layers", "N", "decoder layers", "6");
    args.option("hidden", "N", "hidden size", "256");
    args.option("intermediate", "N", "MLP intermediate size", "768");
    args.option("heads", "N", "attention heads", "8");
    args.option("kv-heads", "N", "key/value heads (GQA when fewer than heads)", "4");
    args.option("max-positions", "N", "max_position_embeddings written to config.json; 0 = the training window (the model is not trained beyond it)", "0");
    args.option("seq-len", "N", "training window in tokens", "256");
    args.option("batch", "N", "windows per step", "16");
    args.option("steps", "N", "optimizer steps", "2000");
    args.option("warmup", "N", "warm-up steps", "100");
    args.option("lr", "X", "peak learning rate", "3e-3");
    args.option("min-lr", "X", "final learning rate (cosine decay)", "3e-4");
    args.option("eval-every", "N", "steps between held-out evaluations", "250");
    args.option("max-minutes", "X", "stop early after this many minutes; 0 = no limit", "0");
    args.option("seed", "N", "random seed", "1234");
    args.option("threads", "N", "CPU threads; 0 = all cores", "0");
    args.option("chat-template", "TEXT", "chat_template for tokenizer_config.json", "");
    if (!args.parse(argc, argv, first)) {
        std::cout << args.help();
        return 0;
    }
    for (const char *required : {"train", "eval", "tokenizer", "out"})
        AWQ_CHECK(args.has(required), InvalidArgument, "--", required, " is required (see --help)");
    TrainOptions o;
    o.trainText = args.get("train");
    o.evalText = args.get("eval");
    o.tokenizerModel = args.get("tokenizer");
    o.outputFolder = args.get("out");
    ModelConfig &c = o.architecture;
    c.modelType = "llama";
    c.architecture = "LlamaForCausalLM";
    c.numLayers = args.getInt("layers", 1, 64);
    c.hiddenSize = args.getInt("hidden", 16, 8192);
    c.intermediateSize = args.getInt("intermediate", 16, 32768);
    c.numHeads = args.getInt("heads", 1, 128);
    c.numKvHeads = args.getInt("kv-heads", 1, 128);
    AWQ_CHECK(c.hiddenSize % c.numHeads == 0 && c.numHeads % c.numKvHeads == 0, InvalidArgument,
              "--hidden must be a multiple of --heads, and --heads a multiple of --kv-heads");
    c.headDim = c.hiddenSize / c.numHeads;
    c.maxPositionEmbeddings = args.getInt("max-positions", 0, 1 << 20);
    c.rmsNormEps = 1e-5;
    c.ropeTheta = 10000.0;
    o.seqLen = args.getInt("seq-len", 8, 1 << 16);
    o.batchSize = args.getInt("batch", 1, 4096);
    o.steps = args.getInt("steps", 1, 1 << 24);
    o.warmupSteps = args.getInt("warmup", 0, 1 << 24);
    o.learningRate = args.getDouble("lr", 1e-7, 1.0);
    o.minLearningRate = args.getDouble("min-lr", 0, 1.0);
    o.evalEvery = args.getInt("eval-every", 1, 1 << 24);
    o.maxMinutes = args.getDouble("max-minutes", 0, 1e6);
    o.seed = static_cast<uint64_t>(args.getInt("seed", 0, INT64_MAX));
    o.chatTemplate = args.get("chat-template");
    const int threads = configureThreads(static_cast<int>(args.getInt("threads", 0, 1024)));

    CancelToken cancel;
    cancelOnInterrupt(cancel);
    std::fprintf(stderr, "training with %d threads\n", threads);
    const TrainReport r = trainModel(
        o, [](const Progress &p) { std::fprintf(stderr, "%s\n", p.note.c_str()); }, cancel);
    std::printf("trained %lld steps (%lld tokens seen, %lld training tokens) in %.1f min\n"
                "final train loss %.4f; held-out loss %.4f, held-out perplexity %.2f\nwritten to %s\n",
                static_cast<long long>(r.stepsDone), static_cast<long long>(r.tokensSeen),
                static_cast<long long>(r.trainTokens), r.seconds / 60.0, r.finalTrainLoss, r.heldOutLoss,
                r.heldOutPerplexity, o.outputFolder.string().c_str());
    return 0;
}

} // namespace awq::cli
