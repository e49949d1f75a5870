// The architecture registry and what every consumer derives from a description: role
// names, linear shapes and the list of a layer's tensors.

#include <algorithm>

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
        &arch::gemma(), &arch::gemma2(),  &arch::phi3(),
        &arch::gemma3Text(), &arch::gemma3(),
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
    }
    return "?";
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

std::pair<int64_t, int64_t> linearShape(const ModelConfig &c, LinearRole role)
{
    const int64_t qOut = c.numHeads * c.headDim;
    switch (role) {
    case LinearRole::Q: return {c.hiddenSize, qOut};
    case LinearRole::K:
    case LinearRole::V: return {c.hiddenSize, c.kvDim()};
    case LinearRole::Qkv: return {c.hiddenSize, qOut + 2 * c.kvDim()};
    case LinearRole::O: return {qOut, c.hiddenSize};
    case LinearRole::Gate:
    case LinearRole::Up: return {c.hiddenSize, c.intermediateSize};
    case LinearRole::GateUp: return {c.hiddenSize, 2 * c.intermediateSize};
    case LinearRole::Down: return {c.intermediateSize, c.hiddenSize};
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
    for (const LinearSlot &l : a.linears) {
        LayerTensor t;
        t.name = prefix + l.name;
        t.linear = true;
        t.linearRole = l.role;
        std::tie(t.inFeatures, t.outFeatures) = linearShape(c, l.role);
        const bool attention = l.role == LinearRole::Q || l.role == LinearRole::K || l.role == LinearRole::V
                               || l.role == LinearRole::Qkv;
        const bool mlp = l.role == LinearRole::Gate || l.role == LinearRole::Up || l.role == LinearRole::GateUp
                         || l.role == LinearRole::Down;
        t.biasRequired = (attention && c.attentionBias) || (mlp && c.mlpBias);
        out.push_back(t);
    }
    return out;
}

} // namespace awq
