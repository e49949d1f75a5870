#include "layer_capture.h"

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/nn/linear.h"

namespace awq {

LinearInput inputOf(LinearRole role)
{
    switch (role) {
    case LinearRole::Q:
    case LinearRole::K:
    case LinearRole::V:
    case LinearRole::Qkv: return LinearInput::Attention;
    case LinearRole::O: return LinearInput::AttentionOutput;
    case LinearRole::Gate:
    case LinearRole::Up:
    case LinearRole::GateUp: return LinearInput::Mlp;
    case LinearRole::Down: return LinearInput::MlpActivation;
    }
    return LinearInput::Attention;
}

namespace {

// Collects each input once per forward call (q, k and v read the same tensor).
struct Recorder {
    std::array<std::vector<at::Tensor>, kLinearInputCount> parts;
    std::array<bool, kLinearInputCount> seen{};

    void record(LinearInput input, const at::Tensor &x)
    {
        const size_t i = static_cast<size_t>(input);
        if (!seen[i])
            parts[i].push_back(x);
        seen[i] = true;
    }
};

// A linear that records what it reads, then computes as the one it wraps.
class RecordingLinear final : public Linear
{
public:
    RecordingLinear(std::unique_ptr<Linear> inner, LinearInput input, Recorder &recorder)
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
    LinearInput m_input;
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
    for (size_t r = 0; r < kLinearRoleCount; ++r)
        if (layer.linears[r])
            layer.linears[r] = std::make_unique<RecordingLinear>(std::move(layer.linears[r]),
                                                                 inputOf(static_cast<LinearRole>(r)), recorder);
    CapturedInputs in;
    in.output = bySlices(x, sliceBlocks, [&](const at::Tensor &slice) {
        recorder.seen = {};
        return block.forward(layer, weights.index, slice, 0, nullptr);
    });
    for (size_t i = 0; i < kLinearInputCount; ++i)
        if (!recorder.parts[i].empty())
            in.inputs[i] = recorder.parts[i].size() == 1 ? recorder.parts[i].front() : at::cat(recorder.parts[i], 0);
    return in;
}

} // namespace awq
