#include "awq/train/trainer.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include <torch/types.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/io/safetensors.h"
#include "awq/nn/reference_model.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq {

namespace fs = std::filesystem;

namespace {

std::string readText(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    AWQ_CHECK(in, NotFound, path.string(), ": cannot be opened for reading");
    std::ostringstream text;
    text << in.rdbuf();
    AWQ_CHECK(!text.str().empty(), InvalidArgument, path.string(), ": the file is empty");
    return text.str();
}

// Tokenizes line by line (each paragraph starts with BOS, as a document would).
at::Tensor tokenizeFile(const Tokenizer &tokenizer, const fs::path &path)
{
    std::istringstream lines(readText(path));
    std::vector<int64_t> ids;
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        for (int32_t id : tokenizer.encode(line, true))
            ids.push_back(id);
    }
    return at::tensor(ids, at::kLong);
}

// Random-init weights named as in a Hugging Face checkpoint (GPT-2 style init:
// N(0, 0.02), residual projections scaled by 1/sqrt(2·layers), norms at 1).
std::map<std::string, at::Tensor> initWeights(const ModelConfig &c)
{
    std::map<std::string, at::Tensor> w;
    const double std = 0.02, residualStd = 0.02 / std::sqrt(2.0 * static_cast<double>(c.numLayers));
    auto normal = [](at::IntArrayRef shape, double s) { return (at::randn(shape) * s).requires_grad_(true); };
    auto ones = [](int64_t n) { return at::ones({n}).requires_grad_(true); };
    const int64_t qOut = c.numHeads * c.headDim;
    w["model.embed_tokens.weight"] = normal({c.vocabSize, c.hiddenSize}, std);
    for (int64_t i = 0; i < c.numLayers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        w[p + "input_layernorm.weight"] = ones(c.hiddenSize);
        w[p + "post_attention_layernorm.weight"] = ones(c.hiddenSize);
        w[p + "self_attn.q_proj.weight"] = normal({qOut, c.hiddenSize}, std);
        w[p + "self_attn.k_proj.weight"] = normal({c.kvDim(), c.hiddenSize}, std);
        w[p + "self_attn.v_proj.weight"] = normal({c.kvDim(), c.hiddenSize}, std);
        w[p + "self_attn.o_proj.weight"] = normal({c.hiddenSize, qOut}, residualStd);
        w[p + "mlp.gate_proj.weight"] = normal({c.intermediateSize, c.hiddenSize}, std);
        w[p + "mlp.up_proj.weight"] = normal({c.intermediateSize, c.hiddenSize}, std);
        w[p + "mlp.down_proj.weight"] = normal({c.hiddenSize, c.intermediateSize}, residualStd);
    }
    w["model.norm.weight"] = ones(c.hiddenSize);
    if (!c.tieWordEmbeddings)
        w["lm_head.weight"] = normal({c.vocabSize, c.hiddenSize}, std);
    return w;
}

double learningRateAt(const TrainOptions &o, int64_t step)
{
    if (step < o.warmupSteps)
        return o.learningRate * static_cast<double>(step + 1) / static_cast<double>(o.warmupSteps);
    const double progress = static_cast<double>(step - o.warmupSteps)
                            / static_cast<double>(std::max<int64_t>(1, o.steps - o.warmupSteps));
    return o.minLearningRate + 0.5 * (o.learningRate - o.minLearningRate) * (1.0 + std::cos(M_PI * progress));
}

double heldOutLoss(ReferenceModel &model, const at::Tensor &tokens, int64_t seqLen, int64_t maxWindows)
{
    at::NoGradGuard noGrad;
    const int64_t windows = std::min<int64_t>(maxWindows, tokens.numel() / seqLen);
    AWQ_CHECK(windows >= 1, InvalidArgument, "the held-out text is shorter than one window of ", seqLen, " tokens");
    double sum = 0;
    for (int64_t w = 0; w < windows; ++w) {
        auto window = tokens.narrow(0, w * seqLen, seqLen).unsqueeze(0);
        auto logits = model.forward(window)[0];
        sum += at::cross_entropy_loss(logits.narrow(0, 0, seqLen - 1), window[0].narrow(0, 1, seqLen - 1))
                   .item<double>();
    }
    return sum / static_cast<double>(windows);
}

} // namespace

TrainReport trainModel(const TrainOptions &o, const ProgressFn &progress, const CancelToken &cancel)
{
    using Clock = std::chrono::steady_clock;
    AWQ_CHECK(o.seqLen >= 8 && o.batchSize >= 1 && o.steps >= 1 && o.warmupSteps >= 0, InvalidArgument,
              "training needs seq_len >= 8, batch >= 1, steps >= 1");
    auto tokenizer = Tokenizer::fromSentencePieceFile(o.tokenizerModel);
    ModelConfig c = o.architecture;
    c.vocabSize = tokenizer->vocabSize();
    c.bosTokenId = tokenizer->bosId();
    c.eosTokenIds = {tokenizer->eosId()};
    c.torchDtype = "float16";
    c.maxPositionEmbeddings = std::max(c.maxPositionEmbeddings, o.seqLen);

    const auto tokenizeStart = Clock::now();
    const at::Tensor train = tokenizeFile(*tokenizer, o.trainText);
    const at::Tensor eval = tokenizeFile(*tokenizer, o.evalText);
    if (progress)
        progress({"train", 0, o.steps,
                  "tokenized " + std::to_string(train.numel()) + " training and " + std::to_string(eval.numel())
                      + " held-out tokens in "
                      + std::to_string(std::chrono::duration<double>(Clock::now() - tokenizeStart).count()) + " s"});
    AWQ_CHECK(train.numel() > o.seqLen * 4, InvalidArgument, o.trainText.string(), ": only ", train.numel(),
              " tokens; too little to train on");

    at::manual_seed(o.seed);
    std::mt19937_64 rng(o.seed);
    auto weights = initWeights(c);
    auto model = ReferenceModel::fromTensors(c, weights);
    std::vector<at::Tensor> decayed, plain;
    for (auto &[name, tensor] : weights)
        (tensor.dim() == 2 ? decayed : plain).push_back(tensor);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(
                                     torch::optim::AdamWOptions(o.learningRate).betas({0.9, 0.95}).weight_decay(o.weightDecay)));
    groups.emplace_back(plain, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(o.learningRate).betas({0.9, 0.95}).weight_decay(0.0)));
    torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(o.learningRate));

    TrainReport report;
    report.trainTokens = train.numel();
    const auto start = Clock::now();
    std::uniform_int_distribution<int64_t> offset(0, train.numel() - o.seqLen - 1);
    double intervalLoss = 0;
    int64_t intervalSteps = 0;
    for (int64_t step = 0; step < o.steps; ++step) {
        cancel.throwIfCancelled();
        const double minutes = std::chrono::duration<double>(Clock::now() - start).count() / 60.0;
        if (o.maxMinutes > 0 && minutes >= o.maxMinutes)
            break;
        std::vector<at::Tensor> rows;
        for (int64_t b = 0; b < o.batchSize; ++b)
            rows.push_back(train.narrow(0, offset(rng), o.seqLen + 1));
        auto batch = at::stack(rows);
        auto inputs = batch.narrow(1, 0, o.seqLen), targets = batch.narrow(1, 1, o.seqLen);

        const double lr = learningRateAt(o, step);
        for (auto &group : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions &>(group.options()).lr(lr);
        optimizer.zero_grad();
        auto logits = model->forward(inputs);
        auto loss = at::cross_entropy_loss(logits.reshape({-1, c.vocabSize}), targets.reshape({-1}));
        loss.backward();
        torch::nn::utils::clip_grad_norm_(optimizer.param_groups()[0].params(), o.gradClip);
        torch::nn::utils::clip_grad_norm_(optimizer.param_groups()[1].params(), o.gradClip);
        optimizer.step();

        intervalLoss += loss.item<double>();
        ++intervalSteps;
        report.stepsDone = step + 1;
        report.tokensSeen += o.batchSize * o.seqLen;
        const bool last = step + 1 == o.steps;
        if ((step + 1) % o.evalEvery == 0 || last) {
            report.finalTrainLoss = intervalLoss / static_cast<double>(intervalSteps);
            const double held = heldOutLoss(*model, eval, o.seqLen, o.evalWindows);
            report.heldOutCurve.emplace_back(step + 1, held);
            intervalLoss = 0;
            intervalSteps = 0;
            if (progress) {
                char note[160];
                const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
                std::snprintf(note, sizeof note,
                              "step %lld: train loss %.3f, held-out loss %.3f (ppl %.1f), lr %.2e, %.2f s/step",
                              static_cast<long long>(step + 1), report.finalTrainLoss, held, std::exp(held), lr,
                              elapsed / static_cast<double>(step + 1));
                progress({"train", step + 1, o.steps, note});
            }
        }
    }
    if (intervalSteps > 0)
        report.finalTrainLoss = intervalLoss / static_cast<double>(intervalSteps);
    report.heldOutLoss = heldOutLoss(*model, eval, o.seqLen, o.evalWindows);
    report.heldOutPerplexity = std::exp(report.heldOutLoss);
    report.seconds = std::chrono::duration<double>(Clock::now() - start).count();

    // Write the Hugging Face folder: fp16 weights, config, tokenizer files.
    fs::create_directories(o.outputFolder);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (auto &[name, tensor] : weights)
        tensors.emplace_back(name, tensor.detach().to(at::kHalf));
    writeSafetensorsFile(o.outputFolder / "model.safetensors", tensors);
    nlohmann::json config = c.toJson();
    config["architectures"] = {"LlamaForCausalLM"};
    config["use_cache"] = true;
    writeJsonFile(o.outputFolder / "config.json", config);
    fs::copy_file(o.tokenizerModel, o.outputFolder / "tokenizer.model", fs::copy_options::overwrite_existing);
    nlohmann::json tokenizerConfig = {{"tokenizer_class", "LlamaTokenizer"},
                                      {"bos_token", tokenizer->idToPiece(tokenizer->bosId())},
                                      {"eos_token", tokenizer->idToPiece(tokenizer->eosId())},
                                      {"unk_token", tokenizer->idToPiece(tokenizer->unkId())},
                                      {"add_bos_token", true},
                                      {"add_eos_token", false},
                                      {"model_max_length", c.maxPositionEmbeddings}};
    if (!o.chatTemplate.empty())
        tokenizerConfig["chat_template"] = o.chatTemplate;
    writeJsonFile(o.outputFolder / "tokenizer_config.json", tokenizerConfig);
    writeJsonFile(o.outputFolder / "generation_config.json",
              {{"bos_token_id", c.bosTokenId}, {"eos_token_id", c.eosTokenIds.front()}, {"do_sample", true},
               {"temperature", 0.8}, {"top_p", 0.95}, {"repetition_penalty", 1.1}, {"max_new_tokens", 128}});
    return report;
}

} // namespace awq
