#include "layer_search.h"

#include <algorithm>
#include <map>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/quant/awq_search.h"

namespace awq {

namespace {

// AutoAWQ does not clip the query and key projections (their errors meet in QKᵀ).
bool isClipped(const std::string &name)
{
    for (const char *skip : {"q_", "k_", "query", "key", "Wqkv"})
        if (name.find(skip) != std::string::npos)
            return false;
    return true;
}

std::string shortName(const std::string &name)
{
    const size_t dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

std::string joinedShort(const std::vector<std::string> &names)
{
    std::string out;
    for (const auto &n : names)
        out += (out.empty() ? "" : ",") + shortName(n);
    return out;
}

at::Tensor linear(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b)
{
    return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
}

// One scaling group of AWQ-SPEC §1.4 with the block whose output measures the loss.
struct Plan {
    std::string prevOp;
    std::vector<std::string> linears;
    std::function<at::Tensor(const std::map<std::string, at::Tensor> &)> block;
    at::Tensor input; // the group's full input (for x_mean)
};

} // namespace

std::vector<SearchedGroup> searchLayer(const LayerContext &ctx, LayerWeights &lw, CapturedInputs &in,
                                       const LayerSearchSettings &settings, const LayerSearchHooks &hooks,
                                       const CancelToken &cancel)
{
    const int64_t layer = lw.index;
    auto isActive = [&](const std::string &n) {
        return std::find(settings.active.begin(), settings.active.end(), n) != settings.active.end();
    };
    auto featureOf = [&](const std::string &name) -> at::Tensor & {
        if (name == "self_attn.o_proj")
            return in.attn;
        if (name == "mlp.gate_proj" || name == "mlp.up_proj" || name == "mlp.gate_up_proj")
            return in.y;
        if (name == "mlp.down_proj")
            return in.act;
        return in.x1;
    };
    // Attention needs whole sequences: a subset of blocks. The other groups act token by
    // token: an evenly strided subset of all calibration tokens.
    auto searchBlocks = [&](const at::Tensor &t) {
        const at::Tensor &idx = settings.searchBlocks;
        return !idx.defined() || idx.size(0) == t.size(0) ? t : t.index_select(0, idx);
    };
    auto searchTokens = [&](const at::Tensor &t) {
        auto flat = t.reshape({-1, t.size(-1)});
        const int64_t n = flat.size(0), want = settings.maxSearchTokens;
        if (want <= 0 || n <= want)
            return flat;
        return flat.slice(0, 0, n, (n + want - 1) / want);
    };

    // phi3 (AWQ-SPEC §1.4): qkv_proj and gate_up_proj take the place of q/k/v and gate/up,
    // and the v -> o and up -> down groups fold into their last rows (the v and up slices).
    const ModelConfig &c = *ctx.config;
    const bool fused = c.fusedProjections;
    std::vector<Plan> plans;
    const at::Tensor xs1 = searchBlocks(in.x1);
    plans.push_back({"input_layernorm",
                     fused ? std::vector<std::string>{"self_attn.qkv_proj"}
                           : std::vector<std::string>{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"},
                     [&, xs1](const std::map<std::string, at::Tensor> &w) {
                         const Projections p = splitProjections(c, w, lw);
                         return attentionBlock(ctx, xs1, p.wq, p.bq, p.wk, p.bk, p.wv, p.bv, w.at("self_attn.o_proj"),
                                               lw);
                     },
                     in.x1});
    // v -> o only without GQA (v_proj and o_proj of the same shape): with fewer KV heads the
    // scales would not line up.
    if (c.kvDim() == c.hiddenSize && c.numHeads * c.headDim == c.hiddenSize) {
        const at::Tensor as = searchTokens(in.attn);
        plans.push_back({fused ? "self_attn.qkv_proj" : "self_attn.v_proj",
                         {"self_attn.o_proj"},
                         [as](const std::map<std::string, at::Tensor> &w) { return at::linear(as, w.at("self_attn.o_proj")); },
                         in.attn});
    }
    const at::Tensor ys = searchTokens(in.y);
    const std::string mlpNorm = mlpNormName(*ctx.config); // gemma2: pre_feedforward_layernorm
    plans.push_back({mlpNorm,
                     fused ? std::vector<std::string>{"mlp.gate_up_proj"}
                           : std::vector<std::string>{"mlp.gate_proj", "mlp.up_proj"},
                     [&, ys](const std::map<std::string, at::Tensor> &w) {
                         const Projections p = splitProjections(c, w, lw);
                         auto act = mlpCore(ctx, ys, p.wg, p.bg, p.wu, p.bu);
                         return linear(act, w.at("mlp.down_proj"), lw.b("mlp.down_proj"));
                     },
                     in.y});
    const at::Tensor acts = searchTokens(in.act);
    plans.push_back({fused ? "mlp.gate_up_proj" : "mlp.up_proj",
                     {"mlp.down_proj"},
                     [acts](const std::map<std::string, at::Tensor> &w) { return at::linear(acts, w.at("mlp.down_proj")); },
                     in.act});

    // Search every group on the original weights (AWQ-SPEC §1.3 step 4).
    const ScaleSearchOptions so{settings.quantizer, settings.nGrid, settings.duoScaling, settings.identityCandidate};
    std::vector<SearchedGroup> searched;
    std::vector<at::Tensor> scales;
    std::vector<std::vector<std::string>> groupLinears;
    for (size_t g = 0; g < plans.size(); ++g) {
        const Plan &plan = plans[g];
        // As AutoAWQ: a linear of modules_to_not_convert still takes part in its group's
        // search and is scaled with the others (the previous op is divided by s for all of
        // them); it is only left unquantized. A group with no linear to quantize is skipped.
        if (std::none_of(plan.linears.begin(), plan.linears.end(), isActive))
            continue;
        const std::vector<std::string> &names = plan.linears;
        const std::string groupName = joinedShort(names);
        if (hooks.onGroup)
            hooks.onGroup(groupName, static_cast<double>(g) / plans.size(), nullptr);
        std::vector<at::Tensor> weights;
        for (const auto &n : names)
            weights.push_back(lw.weight.at(n));
        const at::Tensor reference = plan.block(lw.weight);
        const BlockFn block = [&](const std::vector<at::Tensor> &ws) {
            std::map<std::string, at::Tensor> w = lw.weight;
            for (size_t j = 0; j < names.size(); ++j)
                w[names[j]] = ws[j];
            return plan.block(w);
        };
        const at::Tensor xMean = activationMean(plan.input);
        const ScaleSearchResult r = searchScale(weights, xMean, reference, block, so, cancel);
        const double spread = xMean.max().item<double>() / std::max(1e-12, xMean.median().item<double>());
        searched.push_back({GroupLoss{layer, groupName, 0.0, r.rtnLoss, r.bestLoss, r.bestRatio, spread}, plan.prevOp});
        scales.push_back(r.scales);
        groupLinears.push_back(names);
        if (hooks.onGroup)
            hooks.onGroup(groupName, static_cast<double>(g + 1) / plans.size(), &searched.back().loss);
    }

    // Fold the scales (AWQ-SPEC §1.6): 1/s into the previous op, s into the linears' columns.
    for (size_t g = 0; g < searched.size(); ++g) {
        const at::Tensor &s = scales[g];
        const std::string &prevOp = searched[g].prevOp;
        if (prevOp == "input_layernorm") {
            divideNorm(*ctx.config, lw.inputNorm, s);
        } else if (prevOp == mlpNorm) {
            divideNorm(*ctx.config, lw.postNorm, s);
        } else {
            at::Tensor &prev = lw.w(prevOp);
            prev.narrow(0, prev.size(0) - s.size(0), s.size(0)).div_(s.unsqueeze(1));
            if (lw.bias.count(prevOp)) { // the rows s scales (all of v_proj's; phi3: the v / up slice)
                at::Tensor &bias = lw.bias.at(prevOp);
                bias.narrow(0, bias.size(0) - s.size(0), s.size(0)).div_(s);
            }
        }
        for (const auto &n : groupLinears[g])
            lw.w(n).mul_(s);
        featureOf(groupLinears[g].front()).div_(s);
    }

    // Clip search on the scaled weights and inputs (AWQ-SPEC §1.7).
    if (settings.applyClip) {
        ClipSearchOptions co;
        co.quantizer = settings.quantizer;
        co.sampleTokens = settings.clipSampleTokens;
        for (const auto &n : settings.active) {
            if (!isClipped(n))
                continue;
            cancel.throwIfCancelled();
            if (hooks.onClip)
                hooks.onClip(shortName(n));
            const at::Tensor maxVal = searchClip(lw.w(n), featureOf(n), co, cancel);
            applyClip(lw.w(n), maxVal);
        }
    }
    return searched;
}

} // namespace awq
