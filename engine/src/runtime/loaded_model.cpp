#include "awq/runtime/loaded_model.h"

#include <chrono>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"

namespace awq {

LoadedModel loadModel(const ModelFolder &folder, const TensorTarget &target, const ProgressFn &progress)
{
    const auto start = std::chrono::steady_clock::now();
    folder.requireLoadable();
    LoadedModel loaded;
    loaded.folder = folder.path();
    loaded.config = folder.config();
    loaded.tokenizer = folder.tokenizer();
    at::NoGradGuard noGrad; // not InferenceMode: the quantizer edits these weights in place later
    loaded.model = ReferenceModel::load(folder.weights(), loaded.config, target, progress);
    loaded.loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return loaded;
}

LoadedModel loadModel(const std::filesystem::path &folder, const TensorTarget &target, const ProgressFn &progress)
{
    const auto start = std::chrono::steady_clock::now();
    LoadedModel loaded = loadModel(ModelFolder::open(folder), target, progress);
    loaded.loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return loaded;
}

} // namespace awq
