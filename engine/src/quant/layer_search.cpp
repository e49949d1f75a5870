#include "layer_search.h"

#include <algorithm>
#include <map>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/quant/awq_search.h"

namespace awq {

namespace {

// AutoAWQ does not clip the query and key projections (their errors meet in QKᵀ); the
// rule goes by name, as AutoAWQ's avoid_clipping list does.
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

std::string prevOpName(const Architecture &arch, const std::variant<NormRole, LinearRole> &op)
{
    return std::holds_alternative<NormRole>(op) ? arch.nameOf(std::get<NormRole>(op))
                                                : arch.nameOf(std::get<LinearRole>(op));
}

} // namespace

std::vector<SearchedGroup> searchLayer(DecoderBlock &block, LayerWeights &lw, CapturedInputs &in,
                                       const LayerSearchSettings &settings, const LayerSearchHooks &hooks,
                                       const CancelToken &cancel)
{
    const ModelConfig &c = block.config();
    const Architecture &arch = c.arch();
    const int64_t layer = lw.index;
    auto isActive = [&](LinearRole role) {
        return std::find(settings.active.begin(), settings.active.end(), arch.nameOf(role)) != settings.active.end();
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

    // The groups that apply to this model (v -> o only without GQA).
    const bool gqa = !(c.kvDim() == c.hiddenSize && c.numHeads * c.headDim == c.hiddenSize);
    std::vector<const ScalingGroup *> groups;
    for (const ScalingGroup &g : arch.scaling)
        if (!(g.onlyWithoutGqa && gqa))
            groups.push_back(&g);

    // Search every group on the original weights (docs/awq-format.md, step 4). Every linear
    // of a group is scaled, as AutoAWQ does, even one left in full precision by
    // modules_to_not_convert: the shared previous op takes 1/s either way. A group with no
    // linear to quantize is left alone.
    const ScaleSearchOptions so{settings.quantizer, settings.nGrid, settings.duoScaling, settings.identityCandidate};
    std::vector<SearchedGroup> searched;
    std::vector<at::Tensor> scales;
    std::vector<const ScalingGroup *> applied;
    for (size_t g = 0; g < groups.size(); ++g) {
        const ScalingGroup &group = *groups[g];
        if (std::none_of(group.linears.begin(), group.linears.end(), isActive))
            continue;
        std::string groupName;
        for (LinearRole r : group.linears)
            groupName += (groupName.empty() ? "" : ",") + shortName(arch.nameOf(r));
        if (hooks.onGroup)
            hooks.onGroup(groupName, static_cast<double>(g) / groups.size(), nullptr);

        const at::Tensor &input = in.of(group.linears.front());
        std::function<at::Tensor(const DecoderLayer &)> run;
        switch (group.inspect) {
        case InspectedBlock::Attention: {
            const at::Tensor x = searchBlocks(input);
            run = [&, x](const DecoderLayer &l) {
                return bySlices(x, settings.sliceBlocks,
                                [&](const at::Tensor &s) { return block.attention(l, layer, s, 0, nullptr); });
            };
            break;
        }
        case InspectedBlock::Mlp: {
            const at::Tensor y = searchTokens(input);
            run = [&, y](const DecoderLayer &l) { return block.mlp(l, y); };
            break;
        }
        case InspectedBlock::Linear: {
            const at::Tensor x = searchTokens(input);
            const LinearRole role = group.linears.front();
            run = [x, role](const DecoderLayer &l) { return l.linear(role)->forward(x); };
            break;
        }
        }
        std::vector<at::Tensor> weights;
        for (LinearRole r : group.linears)
            weights.push_back(lw.weight(r));
        const at::Tensor reference = run(lw.view());
        const BlockFn candidate = [&](const std::vector<at::Tensor> &ws) {
            std::map<LinearRole, at::Tensor> replaced;
            for (size_t j = 0; j < group.linears.size(); ++j)
                replaced[group.linears[j]] = ws[j];
            return run(lw.view(replaced));
        };
        const at::Tensor xMean = activationMean(input);
        const ScaleSearchResult r = searchScale(weights, xMean, reference, candidate, so, cancel);
        const double spread = xMean.max().item<double>() / std::max(1e-12, xMean.median().item<double>());
        searched.push_back({GroupLoss{layer, groupName, 0.0, r.rtnLoss, r.bestLoss, r.bestRatio, spread},
                            prevOpName(arch, group.prevOp)});
        scales.push_back(r.scales);
        applied.push_back(&group);
        if (hooks.onGroup)
            hooks.onGroup(groupName, static_cast<double>(g + 1) / groups.size(), &searched.back().loss);
    }

    // Fold the scales: 1/s into the previous op, s into the linears' columns, and the
    // captured input divided by s (what the scaled linears now read).
    for (size_t g = 0; g < applied.size(); ++g) {
        const at::Tensor &s = scales[g];
        const ScalingGroup &group = *applied[g];
        if (std::holds_alternative<NormRole>(group.prevOp)) {
            divideNorm(arch, lw.norm(std::get<NormRole>(group.prevOp)), s);
        } else { // the last s.size() rows: all of v_proj's; phi3: the v / up slice of a stacked linear
            const LinearRole prev = std::get<LinearRole>(group.prevOp);
            at::Tensor &w = lw.weight(prev);
            w.narrow(0, w.size(0) - s.size(0), s.size(0)).div_(s.unsqueeze(1));
            if (at::Tensor &bias = lw.bias(prev); bias.defined())
                bias.narrow(0, bias.size(0) - s.size(0), s.size(0)).div_(s);
        }
        for (LinearRole r : group.linears)
            lw.weight(r).mul_(s);
        in.of(group.linears.front()).div_(s);
    }

    // Clip search on the scaled weights and inputs (docs/awq-format.md, step 5), for the
    // linears that get quantized.
    if (settings.applyClip) {
        ClipSearchOptions co;
        co.quantizer = settings.quantizer;
        co.sampleTokens = settings.clipSampleTokens;
        for (const LinearSlot &slot : arch.linears) {
            if (!isActive(slot.role) || !isClipped(slot.name))
                continue;
            cancel.throwIfCancelled();
            if (hooks.onClip)
                hooks.onClip(shortName(slot.name));
            const at::Tensor maxVal = searchClip(lw.weight(slot.role), in.of(slot.role), co, cancel);
            applyClip(lw.weight(slot.role), maxVal);
        }
    }
    return searched;
}

} // namespace awq
