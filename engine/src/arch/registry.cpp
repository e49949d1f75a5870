// The architecture registry and what every consumer derives from a description: role
// names, linear shapes and the list of a layer's tensors.

#include <algorithm>
#include <set>

#include "awq/arch/architecture.h"
#include "awq/core/error.h"
#include "awq/model/config.h"
#include "families.h"

namespace awq {

const std::vector<const Architecture *> &architectures()
{
    // One line per architecture, in the order shown to users.
    static const std::vector<const Architecture *> all = {
        &arch::llama(), &arch::mistral(), &arch::qwen2(), &arch::qwen3(),
        &arch::gemma(), &arch::gemma2(),  &arch::gemma3Text(), &arch::gemma3(), &arch::phi3(),
        &arch::mixtral(), &arch::qwen2Moe(), &arch::qwen3Moe(),
    };
    return all;
}

std::vector<std::string> supportedModelTypes()
{
    std::vector<std::string> types;
    for (const Architecture *a : architectures())
        types.push_back(a->modelType);
    return types;
}

const Architecture &architectureFor(const std::string &modelType, const std::string &source)
{
    for (const Architecture *a : architectures())
        if (a->modelType == modelType)
            return *a;
    std::string types;
    for (const auto &t : supportedModelTypes())
        types += (types.empty() ? "" : ", ") + t;
    fail(ErrorCode::UnsupportedModel, source, ": model_type '", modelType, "' is not supported; supported model types: ",
         types);
}

const char *roleName(LinearRole role)
{
    switch (role) {
    case LinearRole::Q: return "q";
    case LinearRole::K: return "k";
    case LinearRole::V: return "v";
    case LinearRole::Qkv: return "qkv";
    case LinearRole::O: return "o";
    case LinearRole::Gate: return "gate";
    case LinearRole::Up: return "up";
    case LinearRole::GateUp: return "gate_up";
    case LinearRole::Down: return "down";
    case LinearRole::Router: return "router";
    case LinearRole::SharedExpertGate: return "shared_expert_gate";
    }
    return "?";
}

bool alwaysFullPrecision(LinearRole role)
{
    return role == LinearRole::Router || role == LinearRole::SharedExpertGate;
}

bool isMlpRole(LinearRole role)
{
    return role == LinearRole::Gate || role == LinearRole::Up || role == LinearRole::GateUp || role == LinearRole::Down;
}

const char *roleName(NormRole role)
{
    switch (role) {
    case NormRole::Input: return "input";
    case NormRole::AttnOut: return "attn_out";
    case NormRole::PreMlp: return "pre_mlp";
    case NormRole::MlpOut: return "mlp_out";
    case NormRole::QHead: return "q_head";
    case NormRole::KHead: return "k_head";
    }
    return "?";
}

bool Architecture::has(LinearRole role) const
{
    return std::any_of(linears.begin(), linears.end(), [&](const LinearSlot &s) { return s.role == role; });
}

bool Architecture::has(NormRole role) const
{
    return std::any_of(norms.begin(), norms.end(), [&](const NormSlot &s) { return s.role == role; });
}

const std::string &Architecture::nameOf(LinearRole role) const
{
    for (const LinearSlot &s : linears)
        if (s.role == role)
            return s.name;
    fail(ErrorCode::Internal, modelType, " has no ", roleName(role), " linear");
}

const std::string &Architecture::nameOf(NormRole role) const
{
    for (const NormSlot &s : norms)
        if (s.role == role)
            return s.name;
    fail(ErrorCode::Internal, modelType, " has no ", roleName(role), " norm");
}

std::string Architecture::nameOf(const LinearId &id) const
{
    auto find = [&](const std::vector<LinearSlot> &slots) -> const std::string & {
        for (const LinearSlot &s : slots)
            if (s.role == id.role)
                return s.name;
        fail(ErrorCode::Internal, modelType, " has no ", id.expert == kNoExpert ? "" : "expert ", roleName(id.role),
             " linear");
    };
    if (id.expert == kNoExpert)
        return nameOf(id.role);
    if (id.expert == kSharedExpert)
        return find(sharedExpertLinears);
    return expertPrefix + std::to_string(id.expert) + "." + find(expertLinears);
}

std::pair<int64_t, int64_t> linearShape(const ModelConfig &c, const LinearId &id)
{
    const int64_t qOut = c.numHeads * c.headDim;
    const LinearRole role = id.role;
    const int64_t inter = id.expert == kNoExpert       ? c.intermediateSize
                          : id.expert == kSharedExpert ? c.moe.sharedIntermediateSize
                                                       : c.moe.expertIntermediateSize;
    switch (role) {
    case LinearRole::Q: return {c.hiddenSize, qOut};
    case LinearRole::K:
    case LinearRole::V: return {c.hiddenSize, c.kvDim()};
    case LinearRole::Qkv: return {c.hiddenSize, qOut + 2 * c.kvDim()};
    case LinearRole::O: return {qOut, c.hiddenSize};
    case LinearRole::Gate:
    case LinearRole::Up: return {c.hiddenSize, inter};
    case LinearRole::GateUp: return {c.hiddenSize, 2 * inter};
    case LinearRole::Down: return {inter, c.hiddenSize};
    case LinearRole::Router: return {c.hiddenSize, c.moe.numExperts};
    case LinearRole::SharedExpertGate: return {c.hiddenSize, 1};
    }
    return {0, 0};
}

std::vector<LayerTensor> layerTensors(const ModelConfig &c, int64_t layer)
{
    const Architecture &a = c.arch();
    const std::string prefix = c.names().layerName(layer);
    std::vector<LayerTensor> out;
    for (const NormSlot &n : a.norms) {
        LayerTensor t;
        t.name = prefix + n.name;
        t.normRole = n.role;
        const bool perHead = n.role == NormRole::QHead || n.role == NormRole::KHead;
        t.outFeatures = perHead ? c.headDim : c.hiddenSize;
        out.push_back(t);
    }
    const bool moeLayer = c.isMoeLayer(layer);
    auto addLinear = [&](const LinearId &id) {
        LayerTensor t;
        t.relativeName = a.nameOf(id);
        t.name = prefix + t.relativeName;
        t.linear = true;
        t.linearRole = id.role;
        t.expert = id.expert;
        std::tie(t.inFeatures, t.outFeatures) = linearShape(c, id);
        const bool attention = id.role == LinearRole::Q || id.role == LinearRole::K || id.role == LinearRole::V
                               || id.role == LinearRole::Qkv;
        t.biasRequired = (attention && c.attentionBias) || (isMlpRole(id.role) && c.mlpBias);
        out.push_back(t);
    };
    for (const LinearSlot &l : a.linears) {
        const bool moeOnly = alwaysFullPrecision(l.role);
        if ((moeLayer && isMlpRole(l.role)) || (!moeLayer && moeOnly))
            continue; // a MoE layer has experts instead of the dense MLP, a dense layer no router
        if (l.role == LinearRole::SharedExpertGate && c.moe.sharedIntermediateSize == 0)
            continue;
        addLinear(l.role);
    }
    if (moeLayer) {
        for (int32_t e = 0; e < static_cast<int32_t>(c.moe.numExperts); ++e)
            for (const LinearSlot &l : a.expertLinears)
                addLinear({l.role, e});
        if (c.moe.sharedIntermediateSize > 0)
            for (const LinearSlot &l : a.sharedExpertLinears)
                addLinear({l.role, kSharedExpert});
    }
    for (LayerTensor &t : out)
        if (!t.linear)
            t.relativeName = t.name.substr(prefix.size());
    return out;
}

std::vector<LayerScalingGroup> layerScalingGroups(const ModelConfig &c, int64_t layer)
{
    const Architecture &a = c.arch();
    std::set<LinearId> present;
    for (const LayerTensor &t : layerTensors(c, layer))
        if (t.linear)
            present.insert(t.id());
    const bool gqa = !(c.kvDim() == c.hiddenSize && c.numHeads * c.headDim == c.hiddenSize);
    const int32_t experts = c.isMoeLayer(layer) ? static_cast<int32_t>(c.moe.numExperts) : 0;
    // A reference in one group instance: `expert` is the instance's expert for Routed
    // references of a per-expert group, or kNoExpert to spell out every expert.
    auto expand = [&](const LinearRef &ref, int32_t expert, std::vector<LinearId> &into) {
        switch (ref.scope) {
        case ExpertScope::None: into.push_back(ref.role); break;
        case ExpertScope::Shared: into.push_back({ref.role, kSharedExpert}); break;
        case ExpertScope::Routed:
            if (expert != kNoExpert)
                into.push_back({ref.role, expert});
            else
                for (int32_t e = 0; e < experts; ++e)
                    into.push_back({ref.role, e});
            break;
        }
    };
    std::vector<LayerScalingGroup> groups;
    for (const ScalingGroup &g : a.scaling) {
        if (g.onlyWithoutGqa && gqa)
            continue;
        const bool perExpert = std::holds_alternative<LinearRef>(g.prevOp)
                               && std::get<LinearRef>(g.prevOp).scope == ExpertScope::Routed;
        for (int32_t e = 0; e < (perExpert ? experts : 1); ++e) {
            const int32_t expert = perExpert ? e : kNoExpert;
            LayerScalingGroup lg;
            lg.inspect = g.inspect;
            lg.expert = expert;
            if (std::holds_alternative<NormRole>(g.prevOp)) {
                lg.prevOp = std::get<NormRole>(g.prevOp);
            } else {
                std::vector<LinearId> prev;
                expand(std::get<LinearRef>(g.prevOp), expert, prev);
                if (prev.size() != 1 || !present.count(prev.front()))
                    continue;
                lg.prevOp = prev.front();
            }
            for (const LinearRef &r : g.linears)
                expand(r, expert, lg.linears);
            for (const LinearRef &r : g.alsoScaled)
                expand(r, expert, lg.alsoScaled);
            const auto missing = [&](const LinearId &id) { return !present.count(id); };
            if (lg.linears.empty() || std::any_of(lg.linears.begin(), lg.linears.end(), missing))
                continue; // the group is about linears this layer does not have (dense vs MoE)
            lg.alsoScaled.erase(std::remove_if(lg.alsoScaled.begin(), lg.alsoScaled.end(), missing),
                                lg.alsoScaled.end());
            groups.push_back(std::move(lg));
        }
    }
    return groups;
}

} // namespace awq
