#pragma once
// Capturing what each linear of a layer reads, by running the reference block
// (DecoderBlock::forward) with linears that record their input — AutoAWQ's forward hooks
// on named linears, without a second copy of the block. Private to the quantizer.

#include <array>
#include <cstdint>
#include <functional>

#include <ATen/Tensor.h>

#include "awq/arch/architecture.h"
#include "awq/nn/decoder_block.h"
#include "layer_weights.h"

namespace awq {

// The inputs of a decoder layer's linears: linears that read the same input share it
// (q/k/v or qkv the normed attention input, gate/up the normed MLP input).
enum class LinearInput : uint8_t { Attention, AttentionOutput, Mlp, MlpActivation };
inline constexpr size_t kLinearInputCount = 4;
LinearInput inputOf(LinearRole role);

struct CapturedInputs {
    std::array<at::Tensor, kLinearInputCount> inputs; // [blocks, seqLen, features]
    at::Tensor output;                                // the layer's output: the next layer's input

    at::Tensor &of(LinearRole role) { return inputs[static_cast<size_t>(inputOf(role))]; }
};

// Calibration blocks run together through one attention call: scores and probabilities
// of one slice stay under ~256 MiB.
int64_t blocksPerSlice(const ModelConfig &config, int64_t seqLen);

// Runs `block` over hidden states x [blocks, seqLen, hidden] (in slices of `sliceBlocks`
// blocks) with the layer's full-precision weights, recording each linear's input.
CapturedInputs captureLayer(DecoderBlock &block, const LayerWeights &weights, const at::Tensor &x,
                            int64_t sliceBlocks);

// Runs fn over slices of `blocks` blocks along dim 0 and concatenates the results.
at::Tensor bySlices(const at::Tensor &x, int64_t blocks, const std::function<at::Tensor(const at::Tensor &)> &fn);

} // namespace awq
