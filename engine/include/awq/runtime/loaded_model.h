#pragma once
// A model folder loaded for running: config, tokenizer and weights on one device.

#include <filesystem>
#include <memory>

#include "awq/core/progress.h"
#include "awq/model/config.h"
#include "awq/nn/linear.h"
#include "awq/nn/reference_model.h"
#include "awq/tokenizer/tokenizer.h"

namespace awq {

struct LoadedModel {
    std::filesystem::path folder;
    ModelConfig config;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<ReferenceModel> model;
    double loadSeconds = 0;
};

// Loads config.json, the tokenizer and every weight (converted to target.dtype).
// Throws Error naming the file and the problem.
LoadedModel loadModel(const std::filesystem::path &folder, const TensorTarget &target = {},
                      const ProgressFn &progress = {});

} // namespace awq
