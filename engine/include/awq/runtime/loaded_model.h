#pragma once
// A model folder loaded for running: config, tokenizer and weights on one device, on the
// reference model (wrap it in a decoder: awq/runtime/decoder_model.h).

#include <filesystem>
#include <memory>

#include "awq/core/progress.h"
#include "awq/model/config.h"
#include "awq/model/model_folder.h"
#include "awq/nn/linear.h"
#include "awq/nn/reference_model.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq {

struct LoadedModel {
    std::filesystem::path folder;
    ModelConfig config;
    std::shared_ptr<const Tokenizer> tokenizer;
    std::unique_ptr<ReferenceModel> model;
    double loadSeconds = 0;
};

// Loads every weight of an opened folder (converted to target.dtype) after checking that
// it is loadable (ModelFolder::requireLoadable). Throws Error naming the file and the problem.
LoadedModel loadModel(const ModelFolder &folder, const TensorTarget &target = {}, const ProgressFn &progress = {});
// The same for a folder path (opened first).
LoadedModel loadModel(const std::filesystem::path &folder, const TensorTarget &target = {},
                      const ProgressFn &progress = {});

} // namespace awq
