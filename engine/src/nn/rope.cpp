#include "awq/nn/rope.h"

#include <cmath>

#include <ATen/ATen.h>

namespace awq {

at::Tensor ropeInverseFrequencies(const ModelConfig &config, bool local)
{
    const int64_t half = config.headDim / 2;
    auto idx = at::arange(0, half, at::kDouble);
    // transformers builds gemma3's local table from a copy of the config with rope_theta =
    // rope_local_base_freq and rope_scaling = default.
    const double theta = local ? config.ropeLocalTheta : config.ropeTheta;
    auto invFreq = 1.0 / at::pow(theta, idx * 2.0 / static_cast<double>(config.headDim));
    const RopeScaling s = local ? RopeScaling{} : config.ropeScaling;
    switch (s.type) {
    case RopeScaling::Type::None: break;
    case RopeScaling::Type::Linear: invFreq = invFreq / s.factor; break;
    case RopeScaling::Type::Llama3: {
        // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, the band
        // between low_freq_factor and high_freq_factor interpolated smoothly.
        const double oldContext = static_cast<double>(s.originalMaxPositionEmbeddings);
        const double lowFreqWavelen = oldContext / s.lowFreqFactor;
        const double highFreqWavelen = oldContext / s.highFreqFactor;
        auto wavelen = 2.0 * M_PI / invFreq;
        auto scaled = at::where(wavelen > lowFreqWavelen, invFreq / s.factor, invFreq);
        auto smooth = (oldContext / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        auto smoothed = (1.0 - smooth) * scaled / s.factor + smooth * scaled;
        auto medium = at::logical_and(wavelen >= highFreqWavelen, wavelen <= lowFreqWavelen);
        invFreq = at::where(medium, smoothed, scaled);
        break;
    }
    }
    return invFreq.to(at::kFloat);
}

RotaryEmbedding::RotaryEmbedding(const ModelConfig &config, bool local)
    : m_invFreq(ropeInverseFrequencies(config, local))
{
}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::cosSin(int64_t start, int64_t length)
{
    const int64_t needed = start + length;
    if (!m_cos.defined() || m_cos.size(0) < needed) {
        int64_t capacity = std::max<int64_t>(256, m_cos.defined() ? m_cos.size(0) : 0);
        while (capacity < needed)
            capacity *= 2;
        // Same arithmetic as transformers: positions (float32) ⊗ inv_freq (float32).
        auto positions = at::arange(0, capacity, at::kFloat);
        auto freqs = at::outer(positions, m_invFreq);
        auto emb = at::cat({freqs, freqs}, -1);
        m_cos = emb.cos();
        m_sin = emb.sin();
    }
    return {m_cos.narrow(0, start, length), m_sin.narrow(0, start, length)};
}

at::Tensor applyRotary(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin)
{
    const int64_t half = x.size(-1) / 2;
    auto x1 = x.narrow(-1, 0, half);
    auto x2 = x.narrow(-1, half, half);
    auto rotated = at::cat({-x2, x1}, -1);
    auto c = cos.to(x.scalar_type());
    auto s = sin.to(x.scalar_type());
    return x * c + rotated * s;
}

} // namespace awq
