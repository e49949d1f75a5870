// The float64 oracle's mixture-of-experts MLP (reference_llama.h), written from the
// transformers modules it mirrors (MixtralSparseMoeBlock, Qwen2MoeSparseMoeBlock,
// Qwen3MoeSparseMoeBlock) token by token, independently of the engine's tensor code.

#include <algorithm>
#include <cmath>
#include <numeric>

#include <ATen/ATen.h>

#include "reference_llama.h"

namespace awq::test {

namespace {

// One gated SiLU MLP on one token: down(silu(gate·y) * up·y).
std::vector<double> refExpert(const std::vector<double> &y, const at::Tensor &gate, const at::Tensor &up,
                              const at::Tensor &down)
{
    const int64_t width = gate.size(0), hidden = down.size(0);
    const auto g = gate.accessor<double, 2>(), u = up.accessor<double, 2>(), dn = down.accessor<double, 2>();
    std::vector<double> act(static_cast<size_t>(width));
    for (int64_t j = 0; j < width; ++j) {
        double a = 0, b = 0;
        for (size_t i = 0; i < y.size(); ++i) {
            a += g[j][static_cast<int64_t>(i)] * y[i];
            b += u[j][static_cast<int64_t>(i)] * y[i];
        }
        act[static_cast<size_t>(j)] = a / (1.0 + std::exp(-a)) * b;
    }
    std::vector<double> out(static_cast<size_t>(hidden), 0.0);
    for (int64_t o = 0; o < hidden; ++o)
        for (int64_t j = 0; j < width; ++j)
            out[static_cast<size_t>(o)] += dn[o][j] * act[static_cast<size_t>(j)];
    return out;
}

} // namespace

at::Tensor refMoe(const ModelConfig &c, const at::Tensor &y, const std::function<at::Tensor(const std::string &)> &get,
                  const std::string &layer)
{
    const bool mixtral = c.modelType == "mixtral";
    const std::string moe = layer + (mixtral ? "block_sparse_moe." : "mlp.");
    const at::Tensor router = get(moe + "gate.weight");
    const int64_t E = router.size(0), k = c.moe.expertsPerToken, T = y.size(0), H = y.size(1);
    struct Expert {
        at::Tensor gate, up, down;
    };
    std::vector<Expert> experts;
    for (int64_t e = 0; e < E; ++e) {
        const std::string p = moe + "experts." + std::to_string(e) + ".";
        experts.push_back(mixtral ? Expert{get(p + "w1.weight"), get(p + "w3.weight"), get(p + "w2.weight")}
                                  : Expert{get(p + "gate_proj.weight"), get(p + "up_proj.weight"),
                                           get(p + "down_proj.weight")});
    }
    const bool shared = c.modelType == "qwen2_moe";
    auto out = at::zeros({T, H}, at::kDouble);
    const auto ya = y.accessor<double, 2>();
    const auto ra = router.accessor<double, 2>();
    auto oa = out.accessor<double, 2>();
    for (int64_t t = 0; t < T; ++t) {
        std::vector<double> token(static_cast<size_t>(H));
        for (int64_t i = 0; i < H; ++i)
            token[static_cast<size_t>(i)] = ya[t][i];
        // softmax over every expert, then the k most probable
        std::vector<double> p(static_cast<size_t>(E));
        for (int64_t e = 0; e < E; ++e)
            for (int64_t i = 0; i < H; ++i)
                p[static_cast<size_t>(e)] += ra[e][i] * token[static_cast<size_t>(i)];
        const double top = *std::max_element(p.begin(), p.end());
        double sum = 0;
        for (double &v : p)
            sum += (v = std::exp(v - top));
        for (double &v : p)
            v /= sum;
        std::vector<int64_t> order(static_cast<size_t>(E));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[size_t(a)] > p[size_t(b)]; });
        double kept = 0;
        for (int64_t j = 0; j < k; ++j)
            kept += p[static_cast<size_t>(order[static_cast<size_t>(j)])];
        for (int64_t j = 0; j < k; ++j) {
            const int64_t e = order[static_cast<size_t>(j)];
            const double w = c.moe.normTopKProb ? p[static_cast<size_t>(e)] / kept : p[static_cast<size_t>(e)];
            const auto y_e = refExpert(token, experts[size_t(e)].gate, experts[size_t(e)].up, experts[size_t(e)].down);
            for (int64_t i = 0; i < H; ++i)
                oa[t][i] += w * y_e[static_cast<size_t>(i)];
        }
        if (shared) { // sigmoid(shared_expert_gate · y) * shared_expert(y)
            const std::string s = moe + "shared_expert.";
            const auto ys = refExpert(token, get(s + "gate_proj.weight"), get(s + "up_proj.weight"),
                                      get(s + "down_proj.weight"));
            const auto g = get(moe + "shared_expert_gate.weight");
            double logit = 0;
            for (int64_t i = 0; i < H; ++i)
                logit += g[0][i].item<double>() * token[static_cast<size_t>(i)];
            const double gate = 1.0 / (1.0 + std::exp(-logit));
            for (int64_t i = 0; i < H; ++i)
                oa[t][i] += gate * ys[static_cast<size_t>(i)];
        }
    }
    return out;
}

} // namespace awq::test
