#pragma once
// One decoder layer as the quantizer holds it: float32 copies of its norms and linears,
// by role (awq/arch/architecture.h), which the AWQ search scales and clips in place, and
// DecoderLayer views over them (no copies) so that the reference block
// (awq/nn/decoder_block.h) runs the layer — with recording linears to capture inputs, with
// candidate weights to measure a scaling group's loss. Private to the quantizer.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/arch/architecture.h"
#include "awq/model/config.h"
#include "awq/nn/decoder_block.h"

namespace awq {

class WeightStore;

struct LayerWeights {
    int64_t index = 0;
    std::vector<LayerTensor> tensors;                  // the architecture's, in order
    std::array<at::Tensor, kNormRoleCount> norms;      // [hidden] or [headDim] float32 (gemma: the stored w)
    std::map<LinearId, at::Tensor> weights;            // [out, in] float32
    std::map<LinearId, at::Tensor> biases;             // [out] float32, where the checkpoint has one
    std::array<c10::ScalarType, kNormRoleCount> normDtypes{}; // each norm's dtype in the checkpoint

    at::Tensor &norm(NormRole role) { return norms[static_cast<size_t>(role)]; }
    at::Tensor &weight(const LinearId &id);             // throws Error(Internal) for a linear the layer lacks
    const at::Tensor &weight(const LinearId &id) const;
    at::Tensor &bias(const LinearId &id);                // an undefined tensor where there is none
    bool has(const LinearId &id) const { return weights.count(id) != 0; }

    // The layer for DecoderBlock: DenseLinears over these tensors, with `candidates`
    // in place of the weights of their linears.
    DecoderLayer view(const std::map<LinearId, at::Tensor> &candidates = {}) const;
};

// Throws Error(Format) naming the tensor and its file when `t` holds a NaN or an infinity.
void requireFinite(const WeightStore &store, const std::string &name, const at::Tensor &t);

// Reads layer `layer` from the store (shapes checked against the config, values finite),
// as float32. Throws Error(InvalidArgument) for a linear that is already quantized.
LayerWeights loadLayerWeights(const WeightStore &store, const ModelConfig &config, int64_t layer);

// Folds 1/s into a norm weight: w / s, or gemma's (1 + w) / s - 1 (docs/awq-format.md).
void divideNorm(const Architecture &arch, at::Tensor &norm, const at::Tensor &s);

} // namespace awq
