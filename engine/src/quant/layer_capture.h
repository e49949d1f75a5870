#pragma once
// Capturing what each linear of a layer reads, by running the reference block
// (DecoderBlock::forward) with linears that record their input — AutoAWQ's forward hooks
// on named linears, without a second copy of the block. Private to the quantizer.

#include <array>
#include <cstdint>
#include <functional>
#include <map>

#include <ATen/Tensor.h>

#include "awq/arch/architecture.h"
#include "awq/nn/decoder_block.h"
#include "layer_weights.h"

namespace awq {

// The inputs of a decoder layer's linears: linears that read the same input share it
// (q/k/v or qkv the normed attention input; gate/up, the router and the shared expert the
// normed MLP input). A routed expert's gate/up read the tokens routed to it, its down its
// own activations: those inputs are the expert's.
enum class LinearInput : uint8_t { Attention, AttentionOutput, Mlp, MlpActivation };
struct InputKey {
    LinearInput input = LinearInput::Attention;
    int32_t expert = kNoExpert; // a routed expert's inputs; the shared expert's activations
    bool operator<(const InputKey &o) const { return expert != o.expert ? expert < o.expert : input < o.input; }
};
InputKey inputOf(const LinearId &id);

struct CapturedInputs {
    // [blocks, seqLen, features]; a routed expert's [tokens, features]. Missing: an expert
    // no calibration token was routed to.
    std::map<InputKey, at::Tensor> inputs;
    at::Tensor output; // the layer's output: the next layer's input

    at::Tensor &of(const LinearId &id) { return inputs[inputOf(id)]; }
    at::Tensor &of(const InputKey &key) { return inputs[key]; }
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
