#pragma once
// Trains a small Llama-architecture model from scratch on CPU (used to make the bundled
// demo model, see resources/models/demo-llama/README.md). The forward is the engine's
// own ReferenceModel, run under autograd; AdamW with warm-up and cosine decay.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "awq/core/cancel.h"
#include "awq/core/progress.h"
#include "awq/model/config.h"

namespace awq {

struct TrainOptions {
    std::filesystem::path trainText;      // UTF-8 training text
    std::filesystem::path evalText;       // held-out text (never trained on)
    std::filesystem::path tokenizerModel; // sentencepiece model (vocab size taken from it)
    std::filesystem::path outputFolder;   // written as a Hugging Face model folder (fp16)
    ModelConfig architecture;             // sizes; vocab_size and token ids are filled in
    int64_t seqLen = 256;
    int64_t batchSize = 16;
    int64_t steps = 2000;
    int64_t warmupSteps = 100;
    double learningRate = 3e-3;
    double minLearningRate = 3e-4;
    double weightDecay = 0.1;
    double gradClip = 1.0;
    int64_t evalEvery = 250;              // steps between held-out evaluations
    int64_t evalWindows = 32;             // windows of seqLen per held-out evaluation
    double maxMinutes = 0;                // stop early when the time budget is spent; 0 = none
    uint64_t seed = 1234;
    std::string chatTemplate;             // written to tokenizer_config.json
};

struct TrainReport {
    int64_t stepsDone = 0;
    int64_t trainTokens = 0;       // tokens in the training text
    int64_t tokensSeen = 0;        // tokens processed (steps × batch × seqLen)
    double finalTrainLoss = 0;     // mean over the last evaluation interval
    double heldOutLoss = 0;        // mean cross-entropy on the held-out windows
    double heldOutPerplexity = 0;
    double seconds = 0;
    std::vector<std::pair<int64_t, double>> heldOutCurve; // (step, held-out loss)
};

// Throws Error on bad input; Error(Cancelled) when cancelled (nothing is written then).
TrainReport trainModel(const TrainOptions &options, const ProgressFn &progress = {}, const CancelToken &cancel = {});

} // namespace awq
