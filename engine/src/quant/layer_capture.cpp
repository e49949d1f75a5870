#include "layer_capture.h"

#include <set>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/nn/linear.h"

namespace awq {

InputKey inputOf(const LinearId &id)
{
    LinearInput input = LinearInput::Attention;
    switch (id.role) {
    case LinearRole::Q:
    case LinearRole::K:
    case LinearRole::V:
    case LinearRole::Qkv: input = LinearInput::Attention; break;
    case LinearRole::O: input = LinearInput::AttentionOutput; break;
    case LinearRole::Gate:
    case LinearRole::Up:
    case LinearRole::GateUp:
    case LinearRole::Router:
    case LinearRole::SharedExpertGate: input = LinearInput::Mlp; break;
    case LinearRole::Down: input = LinearInput::MlpActivation; break;
    }
    // The shared expert reads what the router reads; its activations are its own.
    const bool sharedInput = id.expert == kSharedExpert && input == LinearInput::Mlp;
    return {input, sharedInput ? kNoExpert : id.expert};
}

namespace {

// Collects each input once per forward call (q, k and v read the same tensor).
struct Recorder {
    std::map<InputKey, std::vector<at::Tensor>> parts;
    std::set<InputKey> seen;

    void record(const InputKey &key, const at::Tensor &x)
    {
        if (seen.insert(key).second)
            parts[key].push_back(x);
    }
};

// A linear that records what it reads, then computes as the one it wraps.
class RecordingLinear final : public Linear
{
public:
    RecordingLinear(std::unique_ptr<Linear> inner, InputKey input, Recorder &recorder)
        : m_inner(std::move(inner)), m_input(input), m_recorder(recorder)
    {
    }
    at::Tensor forward(const at::Tensor &x) const override
    {
        m_recorder.record(m_input, x);
        return m_inner->forward(x);
    }
    void forwardInto(const at::Tensor &, at::Tensor &) const override
    {
        fail(ErrorCode::Internal, "a recording linear runs in the reference block only");
    }
    int64_t inFeatures() const override { return m_inner->inFeatures(); }
    int64_t outFeatures() const override { return m_inner->outFeatures(); }
    std::string describe() const override { return "recording " + m_inner->describe(); }
    uint64_t weightBytes() const override { return m_inner->weightBytes(); }

private:
    std::unique_ptr<Linear> m_inner;
    InputKey m_input;
    Recorder &m_recorder;
};

} // namespace

at::Tensor bySlices(const at::Tensor &x, int64_t blocks, const std::function<at::Tensor(const at::Tensor &)> &fn)
{
    if (x.size(0) <= blocks)
        return fn(x);
    std::vector<at::Tensor> parts;
    for (int64_t begin = 0; begin < x.size(0); begin += blocks)
        parts.push_back(fn(x.slice(0, begin, std::min(x.size(0), begin + blocks))));
    return at::cat(parts, 0);
}

int64_t blocksPerSlice(const ModelConfig &config, int64_t seqLen)
{
    const int64_t perBlock = config.numHeads * seqLen * seqLen * 4 * 2;
    return std::max<int64_t>(1, (256ll << 20) / std::max<int64_t>(1, perBlock));
}

CapturedInputs captureLayer(DecoderBlock &block, const LayerWeights &weights, const at::Tensor &x, int64_t sliceBlocks)
{
    Recorder recorder;
    DecoderLayer layer = weights.view();
    for (const auto &entry : weights.weights) {
        std::unique_ptr<Linear> &slot = layer.slot(entry.first);
        slot = std::make_unique<RecordingLinear>(std::move(slot), inputOf(entry.first), recorder);
    }
    CapturedInputs in;
    in.output = bySlices(x, sliceBlocks, [&](const at::Tensor &slice) {
        recorder.seen.clear();
        return block.forward(layer, weights.index, slice, 0, nullptr);
    });
    for (auto &[key, parts] : recorder.parts)
        in.inputs[key] = parts.size() == 1 ? parts.front() : at::cat(parts, 0);
    return in;
}

} // namespace awq
