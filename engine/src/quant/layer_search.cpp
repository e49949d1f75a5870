#include "layer_search.h"

#include <algorithm>
#include <map>
#include <set>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/quant/awq_search.h"

namespace awq {

namespace {

std::string shortName(const std::string &name)
{
    const size_t dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

// AutoAWQ does not clip the query and key projections (their errors meet in QKᵀ). Its
// rule is a substring test on the module path, which also matches "k_" in Mixtral's
// "block_sparse_moe" and so never clips Mixtral's experts; the test here is on the
// linear's own name, which agrees on every dense model (docs/quality.md, Mixture of experts).
bool isClipped(const std::string &name)
{
    const std::string own = shortName(name);
    for (const char *skip : {"q_", "k_", "query", "key", "Wqkv"})
        if (own.find(skip) != std::string::npos)
            return false;
    return true;
}

// How a linear is named in progress and provenance: "q_proj", every routed expert's copy
// as "experts.*.w1", the shared expert's as "shared_expert.up_proj".
std::string displayName(const Architecture &arch, const LinearId &id)
{
    if (id.expert >= 0)
        return "experts.*." + shortName(arch.nameOf(id));
    const std::string name = arch.nameOf(id);
    if (id.expert == kSharedExpert) {
        const size_t dot = name.rfind('.');
        return shortName(name.substr(0, dot)) + "." + shortName(name);
    }
    return shortName(name);
}

std::string groupName(const Architecture &arch, const LayerScalingGroup &g)
{
    std::vector<std::string> parts;
    for (const LinearId &id : g.linears) {
        std::string n = displayName(arch, id);
        if (std::find(parts.begin(), parts.end(), n) == parts.end())
            parts.push_back(std::move(n));
    }
    std::string joined;
    for (const std::string &p : parts)
        joined += (joined.empty() ? "" : ",") + p;
    return joined;
}

std::string prevOpName(const Architecture &arch, const LayerScalingGroup &g)
{
    if (std::holds_alternative<NormRole>(g.prevOp))
        return arch.nameOf(std::get<NormRole>(g.prevOp));
    const LinearId &prev = std::get<LinearId>(g.prevOp);
    return prev.expert >= 0 ? displayName(arch, prev) : arch.nameOf(prev);
}

// The input a group's search measures: the whole block's for attention and MLP (the MoE
// block's: every token), the group's own linear's otherwise.
InputKey groupInput(const LayerScalingGroup &g)
{
    switch (g.inspect) {
    case InspectedBlock::Attention: return {LinearInput::Attention, kNoExpert};
    case InspectedBlock::Mlp: return {LinearInput::Mlp, kNoExpert};
    case InspectedBlock::Linear: break;
    }
    return inputOf(g.linears.front());
}

// Per-expert groups of one description group are summarised into one SearchedGroup.
struct ExpertSummary {
    SearchedGroup group;
    double rtnSum = 0, awqSum = 0;
    int64_t tokens = 0;

    void add(const ExpertLoss &e)
    {
        group.experts.push_back(e);
        rtnSum += e.rtnLoss * static_cast<double>(e.tokens);
        awqSum += e.awqLoss * static_cast<double>(e.tokens);
        tokens += e.tokens;
    }
    SearchedGroup finish()
    {
        group.loss.experts = static_cast<int64_t>(group.experts.size());
        if (tokens > 0) {
            group.loss.rtnLoss = rtnSum / static_cast<double>(tokens);
            group.loss.awqLoss = awqSum / static_cast<double>(tokens);
        }
        return std::move(group);
    }
};

} // namespace

std::vector<SearchedGroup> searchLayer(DecoderBlock &block, LayerWeights &lw, CapturedInputs &in,
                                       const LayerSearchSettings &settings, const LayerSearchHooks &hooks,
                                       const CancelToken &cancel)
{
    const ModelConfig &c = block.config();
    const Architecture &arch = c.arch();
    const int64_t layer = lw.index;
    auto isActive = [&](const LinearId &id) {
        return std::find(settings.active.begin(), settings.active.end(), arch.nameOf(id)) != settings.active.end();
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
    auto hasInput = [&](const InputKey &key) {
        const auto it = in.inputs.find(key);
        return it != in.inputs.end() && it->second.defined() && it->second.numel() > 0;
    };

    // Search every group on the original weights (docs/awq-format.md, step 4). Every linear
    // of a group is scaled, as AutoAWQ does, even one left in full precision by
    // modules_to_not_convert: the shared previous op takes 1/s either way. A group with no
    // linear to quantize is left alone, and so is an expert's group when no calibration
    // token was routed to that expert.
    const std::vector<LayerScalingGroup> groups = layerScalingGroups(c, layer);
    const ScaleSearchOptions so{settings.quantizer, settings.nGrid, settings.duoScaling, settings.identityCandidate};
    std::vector<SearchedGroup> searched;
    std::vector<std::pair<const LayerScalingGroup *, at::Tensor>> applied; // group, s
    ExpertSummary summary;
    bool summarising = false;
    auto position = [&](size_t g) { return static_cast<double>(g) / static_cast<double>(groups.size()); };
    for (size_t g = 0; g < groups.size(); ++g) {
        const LayerScalingGroup &group = groups[g];
        const std::string name = groupName(arch, group);
        const bool perExpert = group.expert != kNoExpert;
        if (perExpert && !summarising) { // the first expert of a per-expert group
            summary = ExpertSummary{};
            summary.group.loss = GroupLoss{layer, name, 0.0, 0.0, 0.0, -1.0, 0.0};
            summary.group.prevOp = prevOpName(arch, group);
            summarising = true;
            if (hooks.onGroup)
                hooks.onGroup(name, position(g), nullptr);
        }
        const InputKey inputKey = groupInput(group);
        const bool anyActive = std::any_of(group.linears.begin(), group.linears.end(), isActive);
        if (!anyActive || !hasInput(inputKey)) {
            if (perExpert && !hasInput(inputKey))
                ++summary.group.loss.unusedExperts;
        } else {
            if (!perExpert && hooks.onGroup)
                hooks.onGroup(name, position(g), nullptr);
            const at::Tensor &input = in.of(inputKey);
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
                const LinearId id = group.linears.front();
                run = [x, id](const DecoderLayer &l) { return l.linear(id)->forward(x); };
                break;
            }
            }
            std::vector<at::Tensor> weights;
            for (const LinearId &id : group.linears)
                weights.push_back(lw.weight(id));
            const at::Tensor reference = run(lw.view());
            const BlockFn candidate = [&](const std::vector<at::Tensor> &ws) {
                std::map<LinearId, at::Tensor> replaced;
                for (size_t j = 0; j < group.linears.size(); ++j)
                    replaced[group.linears[j]] = ws[j];
                return run(lw.view(replaced));
            };
            const at::Tensor xMean = activationMean(input);
            const ScaleSearchResult r = searchScale(weights, xMean, reference, candidate, so, cancel);
            const double spread = xMean.max().item<double>() / std::max(1e-12, xMean.median().item<double>());
            applied.emplace_back(&group, r.scales);
            if (perExpert) {
                summary.add({group.expert, input.numel() / input.size(-1), r.rtnLoss, r.bestLoss, r.bestRatio});
                summary.group.loss.activationSpread = std::max(summary.group.loss.activationSpread, spread);
            } else {
                searched.push_back(
                    {GroupLoss{layer, name, 0.0, r.rtnLoss, r.bestLoss, r.bestRatio, spread}, prevOpName(arch, group), {}});
                if (hooks.onGroup)
                    hooks.onGroup(name, position(g + 1), &searched.back().loss);
            }
        }
        const bool lastOfExperts = perExpert && (g + 1 == groups.size() || groups[g + 1].expert == kNoExpert
                                                 || groups[g + 1].expert <= group.expert);
        if (lastOfExperts) {
            searched.push_back(summary.finish());
            summarising = false;
            if (hooks.onGroup)
                hooks.onGroup(searched.back().loss.group, position(g + 1), &searched.back().loss);
        }
    }

    // Fold the scales: 1/s into the previous op, s into the linears' columns (and into the
    // full-precision readers of the same input), and the captured inputs divided by s
    // (what the scaled linears now read).
    for (const auto &[groupPtr, s] : applied) {
        const LayerScalingGroup &group = *groupPtr;
        if (std::holds_alternative<NormRole>(group.prevOp)) {
            divideNorm(arch, lw.norm(std::get<NormRole>(group.prevOp)), s);
        } else { // the last s.size() rows: all of v_proj's; phi3: the v / up slice of a stacked linear
            const LinearId &prev = std::get<LinearId>(group.prevOp);
            at::Tensor &w = lw.weight(prev);
            w.narrow(0, w.size(0) - s.size(0), s.size(0)).div_(s.unsqueeze(1));
            if (at::Tensor &bias = lw.bias(prev); bias.defined())
                bias.narrow(0, bias.size(0) - s.size(0), s.size(0)).div_(s);
        }
        std::set<InputKey> inputs;
        for (const std::vector<LinearId> *list : {&group.linears, &group.alsoScaled})
            for (const LinearId &id : *list) {
                lw.weight(id).mul_(s);
                inputs.insert(inputOf(id));
            }
        for (const InputKey &key : inputs)
            if (hasInput(key))
                in.of(key).div_(s);
    }

    // Clip search on the scaled weights and inputs (docs/awq-format.md, step 5), for the
    // linears that get quantized and read something.
    if (settings.applyClip) {
        ClipSearchOptions co;
        co.quantizer = settings.quantizer;
        co.sampleTokens = settings.clipSampleTokens;
        for (const LayerTensor &t : lw.tensors) {
            if (!t.linear || !isActive(t.id()) || !isClipped(t.relativeName) || !hasInput(inputOf(t.id())))
                continue;
            cancel.throwIfCancelled();
            if (hooks.onClip)
                hooks.onClip(t.expert >= 0 ? t.relativeName : shortName(t.relativeName));
            const at::Tensor maxVal = searchClip(lw.weight(t.id()), in.of(inputOf(t.id())), co, cancel);
            applyClip(lw.weight(t.id()), maxVal);
        }
    }
    return searched;
}

} // namespace awq
