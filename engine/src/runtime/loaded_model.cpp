#include "awq/runtime/loaded_model.h"

#include <chrono>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "awq/model/consistency.h"

namespace awq {

LoadedModel loadModel(const std::filesystem::path &folder, const TensorTarget &target, const ProgressFn &progress)
{
    const auto start = std::chrono::steady_clock::now();
    AWQ_CHECK(std::filesystem::is_directory(folder), NotFound, folder.string(), ": no such model folder");
    LoadedModel loaded;
    loaded.folder = folder;
    loaded.config = ModelConfig::load(folder);
    loaded.tokenizer = Tokenizer::load(folder);
    AWQ_CHECK(loaded.tokenizer->vocabSize() <= loaded.config.vocabSize, Format, loaded.tokenizer->modelFile().string(),
              ": the tokenizer has ", loaded.tokenizer->vocabSize(), " tokens, more than the model's vocab_size (",
              loaded.config.vocabSize, ")");
    auto store = WeightStore::openFolder(folder);
    requireConsistentQuantization(loaded.config, *store, (folder / "config.json").string());
    at::NoGradGuard noGrad; // not InferenceMode: the quantizer edits these weights in place later
    loaded.model = ReferenceModel::load(*store, loaded.config, target, progress);
    loaded.loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return loaded;
}

} // namespace awq
