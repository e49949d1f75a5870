#include "fused_moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "awq/core/error.h"
#include "awq/kernels/cpu_ops.h"
#include "awq/nn/quant_linear.h"

namespace awq {

void gatedActivationRows(const ModelConfig &config, const float *gateUp, int64_t rows, int64_t n, float *out)
{
    if (config.activation == Activation::Silu) {
        kernels::silu_mul(gateUp, static_cast<int>(rows), static_cast<int>(n), out, QuantLinear::isa());
        return;
    }
    // As torch's gelu(approximate="tanh").
    constexpr float kAlpha = 0.7978845608028654f; // sqrt(2 / pi)
    at::parallel_for(0, rows * n, 4096, [&](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j) {
            const int64_t r = j / n, i = j % n;
            const float x = gateUp[r * 2 * n + i];
            const float gelu = 0.5f * x * (1.0f + std::tanh(kAlpha * (x + 0.044715f * x * x * x)));
            out[j] = gelu * gateUp[r * 2 * n + n + i];
        }
    });
}

FusedMoe::Mlp FusedMoe::takeMlp(LinearsByRole &linears, int64_t width, Int4Layout layout)
{
    auto take = [&](LinearRole r) -> std::unique_ptr<Linear> & { return linears[static_cast<size_t>(r)]; };
    Mlp m;
    m.width = width;
    if (take(LinearRole::GateUp))
        m.gateUp = std::move(take(LinearRole::GateUp));
    else
        m.gateUp = stackOutputs({take(LinearRole::Gate).get(), take(LinearRole::Up).get()});
    take(LinearRole::Gate).reset();
    take(LinearRole::Up).reset();
    m.down = std::move(take(LinearRole::Down));
    AWQ_ASSERT(m.gateUp && m.down, "an expert without gate/up or down");
    if (layout == Int4Layout::Gemv)
        for (std::unique_ptr<Linear> *linear : {&m.gateUp, &m.down})
            if (const auto *q = dynamic_cast<const QuantLinear *>(linear->get()))
                if (auto repacked = repackedAsGemv(*q)) {
                    *linear = std::move(repacked);
                    m_repackedGemm = true;
                }
    return m;
}

FusedMoe::FusedMoe(const ModelConfig &config, DecoderLayer &src, Int4Layout layout) : m_config(config)
{
    const MoeConfig &moe = config.moe;
    m_router = std::move(src.slot(LinearRole::Router));
    AWQ_ASSERT(m_router && static_cast<int64_t>(src.experts.size()) == moe.numExperts, "a MoE layer with ",
               src.experts.size(), " of ", moe.numExperts, " experts");
    for (LinearsByRole &expert : src.experts)
        m_experts.push_back(takeMlp(expert, moe.expertIntermediateSize, layout));
    src.experts.clear();
    if (src.linear(LinearRole::SharedExpertGate)) {
        m_sharedGate = std::move(src.slot(LinearRole::SharedExpertGate));
        m_shared = takeMlp(src.sharedExpert, moe.sharedIntermediateSize, layout);
    }
}

FusedMoe::~FusedMoe() = default;

void FusedMoe::reserve(int64_t rows)
{
    if (rows <= m_capacity)
        return;
    const int64_t h = m_config.hiddenSize;
    const int64_t width = std::max(m_config.moe.expertIntermediateSize, m_config.moe.sharedIntermediateSize);
    m_capacity = rows;
    m_logits = at::empty({rows, m_config.moe.numExperts}, at::kFloat);
    m_gathered = at::empty({rows, h}, at::kFloat);
    m_expertOut = at::empty({rows, h}, at::kFloat);
    m_gateUp = at::empty({rows, 2 * width}, at::kFloat);
    m_act = at::empty({rows, width}, at::kFloat);
    m_sharedGateOut = at::empty({rows, 1}, at::kFloat);
    const size_t routed = static_cast<size_t>(rows * m_config.moe.expertsPerToken);
    m_rowsOf.resize(routed);
    m_weightOf.resize(routed);
    m_chosen.resize(routed);
    m_chosenWeight.resize(routed);
}

void FusedMoe::runMlp(const Mlp &mlp, const at::Tensor &x, at::Tensor &y)
{
    const int64_t rows = x.size(0);
    // The first rows * 2 * width floats of the buffer as [rows, 2 * width]: contiguous for
    // the shared expert's width and the experts' alike.
    at::Tensor gateUp = m_gateUp.view({-1}).narrow(0, 0, rows * 2 * mlp.width).view({rows, 2 * mlp.width});
    at::Tensor act = m_act.view({-1}).narrow(0, 0, rows * mlp.width).view({rows, mlp.width});
    mlp.gateUp->forwardInto(x, gateUp);
    gatedActivationRows(m_config, gateUp.data_ptr<float>(), rows, mlp.width, act.data_ptr<float>());
    mlp.down->forwardInto(act, y);
}

void FusedMoe::forward(const at::Tensor &x, at::Tensor &out)
{
    const MoeConfig &moe = m_config.moe;
    const int64_t rows = x.size(0), h = m_config.hiddenSize, E = moe.numExperts, k = moe.expertsPerToken;
    reserve(rows);

    // Routing, as transformers: softmax over all experts in float32, top-k, renormalised.
    at::Tensor logits = m_logits.narrow(0, 0, rows);
    m_router->forwardInto(x, logits);
    const float *lg = logits.data_ptr<float>();
    m_count.assign(static_cast<size_t>(E), 0);
    m_ranked.resize(static_cast<size_t>(E));
    std::vector<int64_t> &chosen = m_chosen;
    std::vector<float> &chosenWeight = m_chosenWeight;
    for (int64_t r = 0; r < rows; ++r) {
        const float *row = lg + r * E;
        const float top = *std::max_element(row, row + E);
        float sum = 0.0f;
        for (int64_t e = 0; e < E; ++e) {
            const float p = std::exp(row[e] - top);
            m_ranked[static_cast<size_t>(e)] = {p, e};
            sum += p;
        }
        std::partial_sort(m_ranked.begin(), m_ranked.begin() + k, m_ranked.end(),
                          [](const auto &a, const auto &b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
        float kept = 0.0f;
        for (int64_t j = 0; j < k; ++j)
            kept += m_ranked[static_cast<size_t>(j)].first / sum;
        for (int64_t j = 0; j < k; ++j) {
            const auto [p, e] = m_ranked[static_cast<size_t>(j)];
            chosen[static_cast<size_t>(r * k + j)] = e;
            chosenWeight[static_cast<size_t>(r * k + j)] = moe.normTopKProb ? (p / sum) / kept : p / sum;
            ++m_count[static_cast<size_t>(e)];
        }
    }
    // Rows grouped by expert.
    m_offset.assign(static_cast<size_t>(E) + 1, 0);
    for (int64_t e = 0; e < E; ++e)
        m_offset[static_cast<size_t>(e + 1)] = m_offset[static_cast<size_t>(e)] + m_count[static_cast<size_t>(e)];
    std::vector<int64_t> &fill = m_fill;
    fill.assign(m_offset.begin(), m_offset.end() - 1);
    for (int64_t i = 0; i < rows * k; ++i) {
        const int64_t slot = fill[static_cast<size_t>(chosen[static_cast<size_t>(i)])]++;
        m_rowsOf[static_cast<size_t>(slot)] = i / k;
        m_weightOf[static_cast<size_t>(slot)] = chosenWeight[static_cast<size_t>(i)];
    }

    float *o = out.data_ptr<float>();
    std::memset(o, 0, static_cast<size_t>(rows * h) * sizeof(float));
    const float *xs = x.data_ptr<float>();
    for (int64_t e = 0; e < E; ++e) {
        const int64_t n = m_count[static_cast<size_t>(e)], first = m_offset[static_cast<size_t>(e)];
        if (n == 0)
            continue;
        // One row (decode) reads x in place; several are gathered into a contiguous block.
        at::Tensor in = x;
        if (rows > 1) {
            in = m_gathered.narrow(0, 0, n);
            float *g = in.data_ptr<float>();
            for (int64_t j = 0; j < n; ++j)
                std::memcpy(g + j * h, xs + m_rowsOf[static_cast<size_t>(first + j)] * h,
                            static_cast<size_t>(h) * sizeof(float));
        }
        at::Tensor y = m_expertOut.narrow(0, 0, n);
        runMlp(m_experts[static_cast<size_t>(e)], in, y);
        const float *ys = y.data_ptr<float>();
        for (int64_t j = 0; j < n; ++j) {
            const float w = m_weightOf[static_cast<size_t>(first + j)];
            float *dst = o + m_rowsOf[static_cast<size_t>(first + j)] * h;
            const float *src = ys + j * h;
            for (int64_t i = 0; i < h; ++i)
                dst[i] += w * src[i];
        }
    }
    if (m_sharedGate) { // qwen2_moe: every token through the shared expert, gated
        at::Tensor y = m_expertOut.narrow(0, 0, rows);
        runMlp(m_shared, x, y);
        at::Tensor g = m_sharedGateOut.narrow(0, 0, rows);
        m_sharedGate->forwardInto(x, g);
        const float *ys = y.data_ptr<float>(), *gs = g.data_ptr<float>();
        for (int64_t r = 0; r < rows; ++r) {
            const float gate = 1.0f / (1.0f + std::exp(-gs[r]));
            for (int64_t i = 0; i < h; ++i)
                o[r * h + i] += gate * ys[r * h + i];
        }
    }
}

uint64_t FusedMoe::weightBytes() const
{
    uint64_t total = m_router->weightBytes();
    for (const Mlp &m : m_experts)
        total += m.gateUp->weightBytes() + m.down->weightBytes();
    if (m_sharedGate)
        total += m_sharedGate->weightBytes() + m_shared.gateUp->weightBytes() + m_shared.down->weightBytes();
    return total;
}

uint64_t FusedMoe::tokenWeightBytes() const
{
    const Mlp &one = m_experts.front();
    uint64_t total = m_router->weightBytes()
                     + static_cast<uint64_t>(m_config.moe.expertsPerToken)
                           * (one.gateUp->weightBytes() + one.down->weightBytes());
    if (m_sharedGate)
        total += m_sharedGate->weightBytes() + m_shared.gateUp->weightBytes() + m_shared.down->weightBytes();
    return total;
}

std::string FusedMoe::describe() const
{
    return std::to_string(m_config.moe.numExperts) + " experts, top " + std::to_string(m_config.moe.expertsPerToken)
           + (m_sharedGate ? " + a shared expert" : "");
}

} // namespace awq
