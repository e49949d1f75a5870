#pragma once
// Does a model folder's quantization_config agree with its tensors? Checked from the
// safetensors headers alone (no weight is read), for `awq info` (one problem per line,
// exit 1), the library and the loader (an error naming config.json, the tensor and both
// values). Without these checks a folder whose config claims AWQ over full-precision
// tensors was reported as AWQ and ran in full precision.

#include <string>
#include <vector>

#include "awq/model/config.h"

namespace awq {

class WeightStore;

// Every disagreement between config.json's quantization_config and the tensors:
// - a method, bit width, zero-point mode or packing version the engine cannot run;
// - a linear stored in full precision that modules_to_not_convert does not name;
// - a group size that does not divide a linear's in_features;
// - packed tensors (qweight, qzeros, scales) whose dtype or shape is not what the
//   declared bits, group size and version imply;
// - packed tensors in a folder without quantization_config.
// Empty when they agree (and for a full-precision folder with no packed tensor).
std::vector<std::string> quantizationProblems(const ModelConfig &config, const WeightStore &store,
                                              const std::string &configFile);

// Throws Error(Format) with the first problem (and how many more there are).
void requireConsistentQuantization(const ModelConfig &config, const WeightStore &store,
                                   const std::string &configFile);

// modules_to_not_convert's rule (AutoAWQ, transformers): a linear is excluded when its
// name contains one of the entries.
bool excludedFromQuantization(const std::string &linearName, const std::vector<std::string> &modulesToNotConvert);

// What modules_to_not_convert must name so that transformers keeps a MoE model's routers
// (and shared-expert gates) in full precision: empty for a dense model.
std::vector<std::string> fullPrecisionModules(const ModelConfig &config);

} // namespace awq
